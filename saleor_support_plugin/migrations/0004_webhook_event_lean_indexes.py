"""Two fewer indexes for every webhook to update (bench/ingest.py).

- ``dedupe_key``: the unique constraint moves from ``unique=True`` to ``Meta.constraints``, because on
  PostgreSQL ``unique=True`` on a CharField also creates a ``varchar_pattern_ops`` index for LIKE queries,
  which nothing runs on a sha256.
- ``installation``: no index of its own; ``webhook_event_object_idx`` (installation_id, object_id) serves
  every lookup by installation.

On PostgreSQL the existing unique index is kept and only renamed (instant, no table lock for a rebuild of a
large inbox); the two redundant indexes are dropped. SQLite (`make run`) keeps its table as it is: its
UNIQUE has no LIKE twin, and Django rebuilds SQLite tables from the model state whenever they next change.
"""

from django.db import migrations, models

TABLE = "support_webhook_event"
UNIQUE_NAME = "webhook_event_dedupe_key_uniq"


def _constraints(schema_editor) -> dict:
    with schema_editor.connection.cursor() as cursor:
        return schema_editor.connection.introspection.get_constraints(cursor, TABLE)


def _forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for name, info in _constraints(schema_editor).items():
        if info["columns"] == ["dedupe_key"] and info["unique"] and name != UNIQUE_NAME:
            schema_editor.execute(f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT {quote(name)} TO {quote(UNIQUE_NAME)}")
        elif info["index"] and not info["unique"] and info["columns"] in (["dedupe_key"], ["installation_id"]):
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")


def _backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT {quote(UNIQUE_NAME)} TO {quote(TABLE + '_dedupe_key_key')}"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(TABLE + '_dedupe_key_like')} ON {quote(TABLE)} (dedupe_key varchar_pattern_ops)"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(TABLE + '_installation_id')} ON {quote(TABLE)} (installation_id)"
    )


class Migration(migrations.Migration):
    dependencies = [("support", "0003_case_search_trgm")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookevent",
                    name="dedupe_key",
                    field=models.CharField(max_length=64),
                ),
                migrations.AddConstraint(
                    model_name="webhookevent",
                    constraint=models.UniqueConstraint(fields=("dedupe_key",), name=UNIQUE_NAME),
                ),
                migrations.AlterField(
                    model_name="webhookevent",
                    name="installation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="+",
                        to="support.installation",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(_forwards, _backwards)],
        ),
    ]
