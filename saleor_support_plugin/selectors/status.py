"""What an operator needs to see at a glance: installations, inbox backlog and poll cursors.

Read-only and cheap: a handful of aggregate queries over indexed columns, usable on PostgreSQL and on
the SQLite database of ``make run``. This is an operator view across tenants, so ``installation`` is
optional here (every other selector requires it); pass it to scope everything to one Saleor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from saleor_support_plugin.models import EventSource, EventStatus, Installation, PollCursor, WebhookEvent

STATUSES: tuple[str, ...] = tuple(EventStatus.values)
SOURCES: tuple[str, ...] = tuple(EventSource.values)


def _age(now: datetime, moment: datetime | None) -> float | None:
    return round((now - moment).total_seconds(), 1) if moment is not None else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True)
class InstallationStatus:
    id: int
    saleor_api_url: str
    app_id: str
    is_active: bool
    installed_at: datetime
    jwks_fetched_at: datetime | None
    jwks_age_seconds: float | None


@dataclass(frozen=True)
class PollCursorStatus:
    installation_id: int
    saleor_api_url: str
    kind: str
    since: datetime | None
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    last_seen: int
    last_enqueued: int
    is_running: bool


@dataclass(frozen=True)
class OldestReceived:
    id: int
    event_type: str
    saleor_api_url: str
    received_at: datetime
    age_seconds: float


@dataclass(frozen=True)
class InboxStatus:
    generated_at: datetime
    installations: list[InstallationStatus]
    # status -> count, every status present (zero included) so dashboards need no defaults.
    inbox_by_status: dict[str, int]
    # installation api url -> status -> count
    inbox_by_installation: dict[str, dict[str, int]]
    inbox_by_source: dict[str, int]
    poll_cursors: list[PollCursorStatus]
    oldest_received: OldestReceived | None
    total_events: int = field(default=0)

    @property
    def oldest_received_age_seconds(self) -> float | None:
        return self.oldest_received.age_seconds if self.oldest_received else None

    def as_json(self) -> dict:
        """Plain JSON-ready dict: datetimes as ISO 8601 strings, ages in seconds."""

        def convert(value: object) -> object:
            if isinstance(value, datetime):
                return _iso(value)
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            if isinstance(value, list):
                return [convert(v) for v in value]
            return value

        data = convert(asdict(self))
        data["oldest_received_age_seconds"] = self.oldest_received_age_seconds
        return data


def _installations(qs, now: datetime) -> list[InstallationStatus]:
    return [
        InstallationStatus(
            id=inst.pk,
            saleor_api_url=inst.saleor_api_url,
            app_id=inst.app_id,
            is_active=inst.is_active,
            installed_at=inst.installed_at,
            jwks_fetched_at=inst.jwks_fetched_at,
            jwks_age_seconds=_age(now, inst.jwks_fetched_at),
        )
        for inst in qs.order_by("pk")
    ]


def _inbox_counts(events, urls: dict[int, str]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    by_status = dict.fromkeys(STATUSES, 0)
    by_installation: dict[str, dict[str, int]] = {}
    rows = events.order_by().values("installation_id", "status").annotate(n=Count("pk"))
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        url = urls.get(row["installation_id"], f"installation {row['installation_id']}")
        counts = by_installation.setdefault(url, dict.fromkeys(STATUSES, 0))
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
    return by_status, by_installation


def _poll_cursors(cursors, urls: dict[int, str], now: datetime) -> list[PollCursorStatus]:
    return [
        PollCursorStatus(
            installation_id=c.installation_id,
            saleor_api_url=urls.get(c.installation_id, ""),
            kind=c.kind,
            since=c.since,
            last_started_at=c.last_started_at,
            last_success_at=c.last_success_at,
            last_error=c.last_error,
            last_seen=c.last_seen,
            last_enqueued=c.last_enqueued,
            is_running=c.lease_until is not None and c.lease_until > now,
        )
        for c in cursors.order_by("installation_id", "kind")
    ]


def _oldest_received(events, urls: dict[int, str], now: datetime) -> OldestReceived | None:
    # Served by the (status, received_at) index.
    row = (
        events.filter(status=EventStatus.RECEIVED)
        .order_by("received_at", "pk")
        .values("pk", "event_type", "installation_id", "received_at")
        .first()
    )
    if row is None:
        return None
    return OldestReceived(
        id=row["pk"],
        event_type=row["event_type"],
        saleor_api_url=urls.get(row["installation_id"], ""),
        received_at=row["received_at"],
        age_seconds=_age(now, row["received_at"]) or 0.0,
    )


def inbox_status_get(*, installation: Installation | None = None, now: datetime | None = None) -> InboxStatus:
    """Installations, inbox counts (by status, installation, source), poll cursors and the oldest backlog."""
    now = now or timezone.now()
    installations = Installation.objects.all()
    events = WebhookEvent.objects.all()
    cursors = PollCursor.objects.all()
    if installation is not None:
        installations = installations.filter(pk=installation.pk)
        events = events.filter(installation=installation)
        cursors = cursors.filter(installation=installation)
    listed = _installations(installations, now)
    urls = {inst.id: inst.saleor_api_url for inst in listed}
    by_status, by_installation = _inbox_counts(events, urls)
    by_source = dict.fromkeys(SOURCES, 0)
    for row in events.order_by().values("source").annotate(n=Count("pk")):
        by_source[row["source"]] = row["n"]
    return InboxStatus(
        generated_at=now,
        installations=listed,
        inbox_by_status=by_status,
        inbox_by_installation=by_installation,
        inbox_by_source=by_source,
        poll_cursors=_poll_cursors(cursors, urls, now),
        oldest_received=_oldest_received(events, urls, now),
        total_events=sum(by_status.values()),
    )


def replay_candidates_list(
    *,
    status: str,
    installation: Installation | None = None,
    event_ids: list[int] | None = None,
    limit: int = 10_000,
) -> list[dict]:
    """The rows ``webhook_events_requeue`` would pick with the same arguments (for ``replay --dry-run``)."""
    qs = WebhookEvent.objects.filter(status=status)
    if installation is not None:
        qs = qs.filter(installation=installation)
    if event_ids:
        qs = qs.filter(pk__in=event_ids)
    columns = ("pk", "event_type", "object_id", "received_at", "attempts", "last_error")
    return list(qs.order_by("received_at").values(*columns)[:limit])
