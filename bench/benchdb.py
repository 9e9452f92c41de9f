"""A throwaway PostgreSQL database for one bench run: recreate, migrate, drop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class BenchBroken(RuntimeError):
    """The bench itself cannot run (not a slow result)."""


def recreate_database(*, admin_url: str, name: str, env: dict[str, str]) -> None:
    """Drop and create ``name``, then run our migrations into it with ``env`` (which sets DATABASE_URL)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchBroken(f"manage.py migrate failed:\n{done.stdout}\n{done.stderr}")


def drop_database(*, admin_url: str, name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
