"""Create the bench's Installation through the ORM (run by bench/ingest.py with the bench DATABASE_URL).

Usage: python bench/seed.py '<json: {"api_url": ..., "app_id": ..., "jwks": {...}}>'
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    spec = json.loads(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_support_plugin.project.settings")
    import django

    django.setup()
    from django.utils import timezone

    from saleor_support_plugin.crypto import token_encrypt
    from saleor_support_plugin.models import Installation

    now = timezone.now()
    Installation.objects.create(
        saleor_api_url=spec["api_url"],
        app_id=spec["app_id"],
        domain=spec["api_url"].split("/")[2],
        token_encrypted=token_encrypt("bench-app-token"),
        jwks=spec["jwks"],
        jwks_fetched_at=now,
        installed_at=now,
    )


if __name__ == "__main__":
    main()
