"""Read cases for staff (the inbox, one case, a customer's history) and for shoppers (their own cases).

Every function takes the installation (or a shopper scope that carries it): a case of another
installation is never returned, and is reported exactly like a case that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import BooleanField, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models import Case as SqlCase
from django.utils import timezone

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import Case, CaseTag, Customer, Installation, OrderSnapshot
from saleor_support_plugin.models.cases import ACTIVE_STATUSES, PRIORITY_ORDER, case_sla_due_expression
from saleor_support_plugin.selectors.pagination import Page, SortSpec, keyset_page

# "Due soon": a running SLA target falls due within this window (and has not yet breached).
SLA_DUE_SOON = timedelta(hours=1)
MAX_SEARCH_LENGTH = 200
HISTORY_LIMIT = 20


class CaseSortField(StrEnum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    PRIORITY = "PRIORITY"
    SLA_DUE = "SLA_DUE"
    NUMBER = "NUMBER"


@dataclass(frozen=True, slots=True)
class CaseSort:
    field: CaseSortField = CaseSortField.CREATED_AT
    descending: bool = True


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Staff inbox filters; empty/None means "any". Lists match any of their values."""

    statuses: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    assignee: str = ""  # Saleor user id or e-mail
    assigned: bool | None = None
    sla_breached: bool | None = None
    sla_due_soon: bool | None = None
    channel: str = ""  # Saleor channel slug of the case's order
    customer_email: str = ""
    order_number: str = ""
    tags: tuple[str, ...] = ()
    search: str = ""


def _priority_rank() -> SqlCase:
    return SqlCase(
        *(When(priority=p, then=Value(rank)) for rank, p in enumerate(PRIORITY_ORDER)),
        default=Value(-1),
        output_field=IntegerField(),
    )


def case_sort_spec(sort: CaseSort) -> SortSpec:
    expressions = {
        CaseSortField.CREATED_AT: F("created_at"),
        CaseSortField.UPDATED_AT: F("updated_at"),
        CaseSortField.NUMBER: F("number"),
        CaseSortField.PRIORITY: _priority_rank(),
        CaseSortField.SLA_DUE: case_sla_due_expression(),
    }
    return SortSpec(
        name=sort.field.value,
        expression=expressions[sort.field],
        descending=sort.descending,
        nullable=sort.field == CaseSortField.SLA_DUE,
    )


def _sla_running() -> Q:
    return Q(status__in=ACTIVE_STATUSES, sla_paused_at__isnull=True)


def _sla_breached(now: datetime) -> Q:
    """Flagged by the SLA scan, or past due and the scan has not looked yet (it runs every minute)."""
    flagged = Q(sla_first_response_breached=True) | Q(sla_resolution_breached=True)
    overdue = _sla_running() & (
        Q(first_responded_at__isnull=True, first_response_due_at__lt=now) | Q(resolution_due_at__lt=now)
    )
    return flagged | overdue


def _sla_due_soon(now: datetime) -> Q:
    soon = now + SLA_DUE_SOON
    upcoming = Q(first_responded_at__isnull=True, first_response_due_at__gt=now, first_response_due_at__lte=soon) | Q(
        resolution_due_at__gt=now, resolution_due_at__lte=soon
    )
    return _sla_running() & upcoming & ~_sla_breached(now)


class _InSubquery(Func):
    """``column IN (subquery)``, written ``column = ANY(ARRAY(subquery))`` on PostgreSQL.

    Inside an OR, PostgreSQL runs ``IN (subquery)`` as a filter on every row of the other table; the ARRAY
    form runs the subquery once (an InitPlan) and probes the column's index, so the OR can be one BitmapOr
    of index scans. Same rows either way.
    """

    output_field = BooleanField()

    def __init__(self, column: str, subquery: QuerySet) -> None:
        super().__init__(F(column), Subquery(subquery))

    def as_sql(self, compiler, connection, **extra):
        (lhs, lhs_params), (rhs, rhs_params) = (compiler.compile(e) for e in self.get_source_expressions())
        template = "%s = ANY(ARRAY%s)" if connection.vendor == "postgresql" else "%s IN %s"
        return template % (lhs, rhs), (*lhs_params, *rhs_params)


def _search(text: str, installation: Installation) -> Q:
    """Subject or customer e-mail containing ``text`` (any case), or the order or case number.

    Each arm has an index on PostgreSQL (migration 0003: trigram indexes on ``UPPER(subject)`` and
    ``UPPER(email)``, which is how Django writes ``icontains``; ``case_order_number_idx``; the case number
    constraint), and no arm joins: the e-mail arm is a subquery on customers, not ``customer__email``.
    """
    text = text.strip()[:MAX_SEARCH_LENGTH]
    customers = Customer.objects.filter(installation=installation, email__icontains=text).values("pk")
    query = Q(subject__icontains=text) | Q(_InSubquery("customer_id", customers)) | Q(order_number=text.lstrip("#"))
    digits = text.lstrip("#")
    if digits.isdigit() and len(digits) < 10:
        query |= Q(number=int(digits))
    return query


def _flag(qs: QuerySet, value: bool | None, condition: Q) -> QuerySet:
    if value is None:
        return qs
    return qs.filter(condition) if value else qs.exclude(condition)


def _filtered(qs: QuerySet, installation: Installation, f: CaseFilter, now: datetime) -> QuerySet:
    lists = {"status__in": f.statuses, "reason__in": f.reasons, "priority__in": f.priorities, "source__in": f.sources}
    qs = qs.filter(**{lookup: values for lookup, values in lists.items() if values})
    if f.assignee:
        # An e-mail matches the assignee's e-mail, anything else their Saleor user id (ids never contain "@").
        # One column, not an OR of both, so "my cases by SLA due" walks case_assignee_sla_idx in order.
        if "@" in f.assignee:
            qs = qs.filter(assignee_email__iexact=f.assignee)
        else:
            qs = qs.filter(assignee_user_id=f.assignee)
    qs = _flag(qs, f.assigned, ~Q(assignee_user_id="") | ~Q(assignee_email=""))
    qs = _flag(qs, f.sla_breached, _sla_breached(now))
    qs = _flag(qs, f.sla_due_soon, _sla_due_soon(now))
    if f.channel:
        orders = OrderSnapshot.objects.filter(installation=installation, channel_slug=f.channel)
        qs = qs.filter(order_saleor_id__in=orders.values("saleor_id"))
    if f.customer_email:
        qs = qs.filter(customer__email=f.customer_email.strip().lower())
    if f.order_number:
        qs = qs.filter(order_number=f.order_number.strip().lstrip("#"))
    if f.tags:
        qs = qs.filter(Exists(CaseTag.objects.filter(case=OuterRef("pk"), name__in=[t.lower() for t in f.tags])))
    if f.search.strip():
        qs = qs.filter(_search(f.search, installation))
    return qs


def case_qs_for_staff(*, installation: Installation, filters: CaseFilter, now: datetime | None = None) -> QuerySet:
    """The installation's cases matching ``filters`` (unordered, unevaluated)."""
    return _filtered(Case.objects.for_installation(installation), installation, filters, now or timezone.now())


def case_list_for_staff(
    *,
    installation: Installation,
    filters: CaseFilter,
    sort: CaseSort,
    first: int,
    after: str | None = None,
    prepare: Callable[[QuerySet], QuerySet] | None = None,
) -> Page:
    """One inbox page (with a lazy total count). ``prepare``: see ``keyset_page``."""
    qs = case_qs_for_staff(installation=installation, filters=filters)
    return keyset_page(qs, sort=case_sort_spec(sort), first=first, after=after, prepare=prepare)


def _not_found() -> PermanentError:
    return PermanentError(SupportErrorCode.NOT_FOUND, "Case not found.", field="id")


def case_get_for_staff(*, installation: Installation, case_id: int | None, qs: QuerySet | None = None) -> Case:
    """The case with this id in this installation, or NOT_FOUND (also for other installations' cases)."""
    case = None
    if case_id is not None:
        case = (qs if qs is not None else Case.objects.all()).filter(installation=installation, pk=case_id).first()
    if case is None:
        raise _not_found()
    return case


def customer_cases_list(*, case: Case, limit: int = HISTORY_LIMIT) -> list[Case]:
    """The same customer's other cases, newest first."""
    if case.customer_id is None:
        return []
    qs = Case.objects.filter(installation_id=case.installation_id, customer_id=case.customer_id).exclude(pk=case.pk)
    return list(qs.select_related("customer").prefetch_related("tags").order_by("-created_at", "-pk")[:limit])


def customer_orders_list(*, case: Case, limit: int = HISTORY_LIMIT) -> list[OrderSnapshot]:
    """The same customer's orders we hold snapshots of (by e-mail or Saleor user), newest first."""
    customer: Customer | None = case.customer
    if customer is None:
        return []
    match = Q(user_email__iexact=customer.email)
    if customer.saleor_user_id:
        match |= Q(saleor_user_id=customer.saleor_user_id)
    qs = OrderSnapshot.objects.filter(match, installation_id=case.installation_id)
    return list(qs.order_by(F("saleor_created_at").desc(nulls_last=True), "-pk")[:limit])


# --- shoppers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShopperScope:
    """What a shopper may see: a signed-in customer's cases (by Saleor user id or e-mail), or a guest's
    cases of the one order they proved they own."""

    installation: Installation
    email: str
    saleor_user_id: str = ""
    guest_order_id: str = ""


def _shopper_condition(scope: ShopperScope) -> Q:
    if scope.guest_order_id:
        return Q(order_saleor_id=scope.guest_order_id)
    customers = Customer.objects.filter(installation=scope.installation, email=scope.email)
    if scope.saleor_user_id:
        customers = Customer.objects.filter(
            Q(email=scope.email) | Q(saleor_user_id=scope.saleor_user_id), installation=scope.installation
        )
    return Q(customer__in=customers.values("pk"))


def case_qs_for_shopper(*, scope: ShopperScope) -> QuerySet:
    return Case.objects.for_installation(scope.installation).filter(_shopper_condition(scope))


def case_list_for_shopper(
    *,
    scope: ShopperScope,
    first: int,
    after: str | None = None,
    prepare: Callable[[QuerySet], QuerySet] | None = None,
) -> Page:
    """The shopper's cases, newest first."""
    sort = case_sort_spec(CaseSort(CaseSortField.CREATED_AT, descending=True))
    return keyset_page(case_qs_for_shopper(scope=scope), sort=sort, first=first, after=after, prepare=prepare)


def case_get_for_shopper(*, scope: ShopperScope, case_id: int | None) -> Case:
    """The shopper's own case, or NOT_FOUND: someone else's case looks exactly like a missing one."""
    case = case_qs_for_shopper(scope=scope).filter(pk=case_id).first() if case_id is not None else None
    if case is None:
        raise _not_found()
    return case
