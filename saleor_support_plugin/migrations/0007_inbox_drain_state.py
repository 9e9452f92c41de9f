"""The inbox's drain flag moves from Redis into the database; PostgreSQL gets ``support_inbox_insert()``.

``support_inbox_drain_state`` (one row): whether a published drain has not started yet, and when the one
delayed retry drain runs. It replaces the Redis keys ``support:inbox:drain-pending`` / ``…-retry-at``, so
kicks coalesce with any broker (RabbitMQ too), not only with Redis. During a rolling deploy, web processes
of the previous version still kick through Redis; a row of theirs that finds the old key set waits for the
next drain anyone else starts, or for the sweeper (rows waiting > 30 s): late, never lost.

``support_inbox_insert(...)`` (PostgreSQL only): what a webhook does in one round trip. It takes the inbox
lock in shared mode (held to the end of the transaction), inserts the row unless its dedupe key exists, and
says whether this new row must kick a drain: only when no drain is pending. A drain clears the flag holding
the same lock exclusively, so a row that read "pending" is committed before any drain clears it (the proof
is in saleor_support_plugin/inbox_drain.py). Its INSERT is planned once per connection (PL/pgSQL caches the
plan), which a statement sent without a server-side prepared statement cannot be.
"""

from django.db import migrations, models

# saleor_support_plugin.inbox_drain.INBOX_LOCK_KEY (tests/tasks/test_inbox_drain_state.py keeps them equal)
INBOX_LOCK_KEY = 6003663463426949720

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION support_inbox_insert(
    p_installation_id bigint, p_source varchar, p_event_type varchar, p_dedupe_key varchar, p_raw_body text,
    p_object_id varchar, p_issued_at timestamptz, p_is_echo boolean,
    OUT event_id bigint, OUT kick boolean
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({INBOX_LOCK_KEY});
    INSERT INTO support_webhook_event (
        installation_id, source, event_type, dedupe_key, raw_body, object_id, issued_at, is_echo,
        status, attempts, last_error, received_at, processed_at, next_attempt_at
    ) VALUES (
        p_installation_id, p_source, p_event_type, p_dedupe_key, p_raw_body, p_object_id, p_issued_at, p_is_echo,
        'received', 0, '', now(), NULL, NULL
    ) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id INTO event_id;
    -- A fresh snapshot (VOLATILE, READ COMMITTED), taken after the lock.
    kick := event_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM support_inbox_drain_state WHERE id = 1 AND pending_until > now()
    );
END
$$;
"""

DROP_FUNCTION = (
    "DROP FUNCTION IF EXISTS support_inbox_insert("
    "bigint, varchar, varchar, varchar, text, varchar, timestamptz, boolean)"
)


def _forward(apps, schema_editor):
    apps.get_model("support", "InboxDrainState").objects.get_or_create(pk=1)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FUNCTION)


def _backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("support", "0006_erased_object")]

    operations = [
        migrations.CreateModel(
            name="InboxDrainState",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("pending_until", models.DateTimeField(blank=True, null=True)),
                ("retry_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"db_table": "support_inbox_drain_state"},
        ),
        migrations.RunPython(_forward, _backward),
    ]
