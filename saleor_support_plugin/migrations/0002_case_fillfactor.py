"""Leave room in support_case pages so the SLA scan's flag updates stay HOT (no index writes).

PostgreSQL only: SQLite (`make run`) has no fillfactor. See bench/README.md (sla_scan) for the figures.
"""

from django.db import migrations


def _case_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE support_case SET (fillfactor = 90)")


def _case_fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE support_case RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(_case_fillfactor, _case_fillfactor_reset)]
