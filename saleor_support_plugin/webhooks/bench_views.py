"""Baseline for bench/ingest.py: the cheapest possible intake, to compare the real webhook view against.

Mounted only when ``SUPPORT_BENCH_ENDPOINTS=1`` (see project/urls.py). It reads the body like the webhook
view does, inserts it into ``bench_bare_event`` (a table bench/ingest.py creates itself, outside our
migrations) and answers with the same JSON as an accepted webhook. No verification, no dedupe, no enqueue.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from saleor_support_plugin.errors import SupportErrorCode
from saleor_support_plugin.webhooks.responses import accepted, simple_error

BARE_TABLE = "bench_bare_event"


@csrf_exempt
def bare_insert_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return simple_error(405, SupportErrorCode.INVALID, "POST only.")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (raw_body) VALUES (%s)", [request.body.decode()])  # noqa: S608
    return accepted("accepted")
