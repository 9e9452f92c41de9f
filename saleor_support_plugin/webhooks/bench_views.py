"""Baseline for bench/ingest.py: the cheapest possible intake, to compare the real webhook intake against.

Mounted only when ``SUPPORT_BENCH_ENDPOINTS=1`` (see project/urls.py and webhooks/fastpath.py). It reads the
body like the webhook intake does, inserts it into ``bench_bare_event`` (a table bench/ingest.py creates
itself, outside our migrations) and answers with the same JSON as an accepted webhook. No verification, no
dedupe, no enqueue. Served by the same HTTP layer as the webhooks (the fast path, or Django when it is off),
so the two differ only in what the intake does.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from saleor_support_plugin.errors import SupportErrorCode
from saleor_support_plugin.webhooks.responses import ACCEPTED, Answer, json_response, simple_error

BARE_TABLE = "bench_bare_event"
BARE_PATH = "/bench/bare"


def bare_insert(raw_body: bytes) -> Answer:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (raw_body) VALUES (%s)", [raw_body.decode()])  # noqa: S608
    return ACCEPTED


@csrf_exempt
def bare_insert_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return simple_error(405, SupportErrorCode.INVALID, "POST only.")
    return json_response(bare_insert(request.body))
