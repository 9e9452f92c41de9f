# TEMPORARY (drain helper session): WebhookEvent.next_attempt_at + the widened status index. Delete once 0001 is
# regenerated. Only these operations on purpose: other sessions have model changes of their own in flight.
# It depends on whichever other migration is the newest, so another temporary migration appearing or
# disappearing next to it does not break the graph.

from pathlib import Path

from django.db import migrations, models

_here = Path(__file__)
_others = sorted(
    p.stem for p in _here.parent.glob("[0-9][0-9][0-9][0-9]_*.py") if p.stem != _here.stem and p.stem < _here.stem
)


class Migration(migrations.Migration):
    dependencies = [("support", _others[-1])]

    operations = [
        migrations.RemoveIndex(model_name="webhookevent", name="webhook_event_status_idx"),
        migrations.AddField(
            model_name="webhookevent",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(fields=["status", "received_at", "next_attempt_at"], name="webhook_event_status_idx"),
        ),
    ]
