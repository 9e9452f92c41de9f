"""The Celery application shared by the web process (to enqueue) and workers."""

import logging
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_support_plugin.project.settings")

app = Celery("saleor_support_plugin", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["saleor_support_plugin"])


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender: Celery, **_: object) -> None:
    from django.conf import settings

    from saleor_support_plugin import tasks

    sender.add_periodic_task(
        settings.SUPPORT_POLL_INTERVAL_SECONDS, tasks.poll_all_installations_task.s(), name="poll saleor"
    )
    sender.add_periodic_task(settings.SUPPORT_SWEEP_INTERVAL_SECONDS, tasks.inbox_sweep_task.s(), name="sweep inbox")
    sender.add_periodic_task(
        settings.SUPPORT_SWEEP_INTERVAL_SECONDS, tasks.outbound_email_sweep_task.s(), name="sweep e-mail"
    )
    sender.add_periodic_task(300, tasks.refunds_resume_task.s(), name="resume refunds")
    sender.add_periodic_task(
        settings.SUPPORT_DELAY_SCAN_INTERVAL_SECONDS, tasks.case_delay_scan_task.s(), name="scan delays"
    )
    sender.add_periodic_task(settings.SUPPORT_SLA_SCAN_INTERVAL_SECONDS, tasks.sla_scan_task.s(), name="scan sla")
    sender.add_periodic_task(
        settings.SUPPORT_IMAP_POLL_INTERVAL_SECONDS, tasks.inbound_mailboxes_poll_task.s(), name="poll mailboxes"
    )
    # Surveys are due minutes to days after resolution/delivery: every 5 minutes is plenty.
    sender.add_periodic_task(300, tasks.feedback_scan_task.s(), name="ask feedback")


@worker_process_init.connect
def _warm_up_offline_triage(**_: object) -> None:
    """Load the intent model and the language identifier (py3langid takes seconds) before the first message."""
    from saleor_support_plugin.ai.offline import offline_warm_up

    try:
        offline_warm_up()
    except Exception:  # noqa: BLE001 - a failed warm-up only costs the first message its latency
        logging.getLogger(__name__).exception("offline triage warm-up failed")
