"""``case_assignee_sla_idx``: one agent's active cases in SLA-due order (the inbox's "mine" view).

Built ``CONCURRENTLY`` on PostgreSQL (hence ``atomic = False``), so a large installed base keeps taking cases
and webhooks while it builds; a plain CREATE INDEX elsewhere (SQLite under `make run`).
"""

from django.db import migrations, models

INDEX = models.Index(
    models.F("installation"),
    models.F("assignee_user_id"),
    models.Case(
        models.When(first_responded_at__isnull=True, then=models.F("first_response_due_at")),
        default=models.F("resolution_due_at"),
    ),
    models.F("id"),
    condition=models.Q(("status__in", ("new", "open", "pending_customer", "on_hold"))),
    name="case_assignee_sla_idx",
)


def _create(apps, schema_editor):
    model = apps.get_model("support", "Case")
    if schema_editor.connection.vendor == "postgresql":
        # A build that failed half way leaves an INVALID index with this name behind: rebuild it.
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(INDEX.name)}")
        schema_editor.add_index(model, INDEX, concurrently=True)
    else:
        schema_editor.add_index(model, INDEX)


def _drop(apps, schema_editor):
    model = apps.get_model("support", "Case")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, INDEX, concurrently=True)
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("support", "0004_webhook_event_lean_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="case", index=INDEX)],
            database_operations=[migrations.RunPython(_create, _drop)],
        ),
    ]
