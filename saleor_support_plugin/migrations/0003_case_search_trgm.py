"""Indexes for the staff inbox's free-text search (selectors/cases.py ``_search``) at 1M+ cases.

The search is ``subject icontains x OR customer e-mail icontains x OR order_number = x [OR number = n]``.
Django writes ``icontains`` on PostgreSQL as ``UPPER(col::text) LIKE UPPER('%x%')``, so the trigram indexes
are on exactly that expression (a GIN ``gin_trgm_ops`` index serves LIKE '%x%' for x of 3+ characters):

- ``case_subject_trgm_idx``   support_case     USING gin ((UPPER(subject::text)) gin_trgm_ops)
- ``customer_email_trgm_idx`` support_customer USING gin ((UPPER(email::text)) gin_trgm_ops)
- ``case_order_number_idx``   support_case (installation_id, order_number), a plain btree in the model's Meta.

PostgreSQL only for the trigram part (extension pg_trgm, trusted since PostgreSQL 13: the database owner may
create it). They are raw SQL, not Meta indexes, because a ``GinIndex`` in the model would need
django.contrib.postgres and would break SQLite (`make run`); Django's model state does not know them, so
``makemigrations`` stays quiet. On SQLite only the btree index is created.

Built ``CONCURRENTLY`` (hence ``atomic = False``): on a large installed base a plain CREATE INDEX would
block new cases and webhooks for the build's duration. A build that failed half way leaves an INVALID index
behind; re-running the migration drops and rebuilds it. The reverse drops the indexes and leaves pg_trgm
installed (something else may use it).
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {
    "case_subject_trgm_idx": ("support_case", "subject"),
    "customer_email_trgm_idx": ("support_customer", "email"),
}
ORDER_NUMBER_INDEX = models.Index(fields=["installation", "order_number"], name="case_order_number_idx")


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _search_indexes_create(apps, schema_editor):
    if not _postgres(schema_editor):
        schema_editor.add_index(apps.get_model("support", "Case"), ORDER_NUMBER_INDEX)
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in TRIGRAM_INDEXES.items():
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY {name} ON {table} USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS case_order_number_idx")
    schema_editor.execute("CREATE INDEX CONCURRENTLY case_order_number_idx ON support_case (installation_id, order_number)")


def _search_indexes_drop(apps, schema_editor):
    if not _postgres(schema_editor):
        schema_editor.remove_index(apps.get_model("support", "Case"), ORDER_NUMBER_INDEX)
        return
    for name in (*TRIGRAM_INDEXES, "case_order_number_idx"):
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("support", "0002_case_fillfactor")]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The btree is part of the model (Meta.indexes); the trigram indexes are not (see above).
            state_operations=[migrations.AddIndex(model_name="case", index=ORDER_NUMBER_INDEX)],
            database_operations=[migrations.RunPython(_search_indexes_create, _search_indexes_drop)],
        )
    ]
