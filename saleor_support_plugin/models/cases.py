"""Support cases, their conversation and their timeline."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class CaseStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING_CUSTOMER = "pending_customer", "Waiting on customer"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


# The one table of allowed moves; `case_status_set` checks it (docs/architecture §1.4).
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset({CaseStatus.OPEN, CaseStatus.PENDING_CUSTOMER, CaseStatus.ON_HOLD, CaseStatus.RESOLVED,
                               CaseStatus.CLOSED}),
    CaseStatus.OPEN: frozenset({CaseStatus.PENDING_CUSTOMER, CaseStatus.ON_HOLD, CaseStatus.RESOLVED,
                                CaseStatus.CLOSED}),
    CaseStatus.PENDING_CUSTOMER: frozenset({CaseStatus.OPEN, CaseStatus.ON_HOLD, CaseStatus.RESOLVED,
                                            CaseStatus.CLOSED}),
    CaseStatus.ON_HOLD: frozenset({CaseStatus.OPEN, CaseStatus.PENDING_CUSTOMER, CaseStatus.RESOLVED,
                                   CaseStatus.CLOSED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}  # fmt: skip

ACTIVE_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING_CUSTOMER, CaseStatus.ON_HOLD)


class CasePriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_ORDER = [CasePriority.LOW, CasePriority.NORMAL, CasePriority.HIGH, CasePriority.URGENT]


class CaseReason(models.TextChoices):
    """The fixed taxonomy; triage intents share it."""

    ORDER_STATUS = "order_status", "Order status"
    DELIVERY_DELAY = "delivery_delay", "Delivery delay"
    DELIVERY_OPTIONS = "delivery_options", "Delivery options"
    SHIPPING_ADDRESS = "shipping_address", "Shipping address"
    CANCEL_ORDER = "cancel_order", "Cancel order"
    CHANGE_ORDER = "change_order", "Change order"
    PURCHASE_HELP = "purchase_help", "Purchase help"
    RETURN_REQUEST = "return_request", "Return request"
    EXCHANGE_REQUEST = "exchange_request", "Exchange request"
    REFUND_REQUEST = "refund_request", "Refund request"
    REFUND_STATUS = "refund_status", "Refund status"
    POLICY_QUESTION = "policy_question", "Policy question"
    PAYMENT_ISSUE = "payment_issue", "Payment issue"
    PAYMENT_METHODS = "payment_methods", "Payment methods"
    INVOICE = "invoice", "Invoice"
    ACCOUNT = "account", "Account"
    DAMAGED_OR_WRONG_ITEM = "damaged_or_wrong_item", "Damaged or wrong item"
    PRODUCT_QUESTION = "product_question", "Product question"
    COMPLAINT = "complaint", "Complaint"
    FEEDBACK = "feedback", "Feedback"
    CONTACT_HUMAN = "contact_human", "Contact a human"
    OTHER = "other", "Other"


class CaseRule(models.TextChoices):
    """The automatic rule that opened a case (empty for cases people opened)."""

    CHECKOUT_PAYMENT_FAILED = "checkout_payment_failed", "Payment failed on a checkout"
    ORDER_PAYMENT_FAILED = "order_payment_failed", "Payment failed on an order"
    ORDER_EXPIRED_UNPAID = "order_expired_unpaid", "Order expired unpaid"
    FULFILLMENT_DELAY = "fulfillment_delay", "Paid but not fulfilled"
    DELIVERY_DELAY = "delivery_delay", "Shipped but no delivery progress"
    REFUND_FAILED = "refund_failed", "Refund failed"
    CANCELLED_WITHOUT_REFUND = "cancelled_without_refund", "Cancelled after payment without refund"


class CaseSource(models.TextChoices):
    AUTO = "auto", "Automatic"
    STOREFRONT = "storefront", "Storefront"
    EMAIL = "email", "E-mail"
    STAFF = "staff", "Staff"


def case_sla_due_expression() -> models.Case:
    """The next SLA due time: first response until the first staff reply, then resolution.

    The inbox sorts by it (``selectors/cases.py``) and ``case_sla_due_idx`` indexes exactly this expression,
    so both must come from here.
    """
    return models.Case(
        models.When(first_responded_at__isnull=True, then=models.F("first_response_due_at")),
        default=models.F("resolution_due_at"),
    )


class CaseQuerySet(models.QuerySet["Case"]):
    def for_installation(self, installation) -> CaseQuerySet:
        return self.filter(installation=installation)

    def active(self) -> CaseQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)


class Case(models.Model):
    # No index of its own: every query filters installation together with more columns, and the composite
    # indexes below all start with it. The same holds for ``merged_into`` and ``sla_policy`` (only tested
    # for NULL, or read from the row): fewer indexes on this often-updated table, cheaper non-HOT updates.
    # (Deleting a case or a policy would then seek their SET_NULL rows by a sequential scan: nothing
    # deletes either; installations are deactivated, not deleted.)
    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+", db_index=False)
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=255)
    reason = models.CharField(max_length=32, choices=CaseReason.choices, default=CaseReason.OTHER)
    rule = models.CharField(max_length=32, choices=CaseRule.choices, blank=True, default="")
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(max_length=10, choices=CasePriority.choices, default=CasePriority.NORMAL)
    source = models.CharField(max_length=12, choices=CaseSource.choices, default=CaseSource.STAFF)
    customer = models.ForeignKey(
        "support.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    assignee_user_id = models.CharField(max_length=255, blank=True, default="")
    assignee_email = models.EmailField(max_length=254, blank=True, default="")
    order_saleor_id = models.CharField(max_length=255, blank=True, default="")
    order_number = models.CharField(max_length=64, blank=True, default="")
    checkout_saleor_id = models.CharField(max_length=255, blank=True, default="")
    language_code = models.CharField(max_length=16, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    value_at_risk = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    recovered_amount = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # Secret part of the reply-to address (case+<token>@…) that routes shopper replies back here. Unique
    # through ``case_unique_reply_token`` (a constraint, not ``unique=True``: no ``_like`` pattern index).
    reply_token = models.CharField(max_length=32)
    # SLA clocks (services/sla/): due times in UTC and the pause. When the scan must look next is kept in
    # ``SlaCheck`` (models/sla.py), so the scan's writes to this row touch no indexed column.
    sla_policy = models.ForeignKey(
        "support.SlaPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    # Business seconds spent paused so far (services/sla.py), so a recompute from created_at honours them.
    sla_paused_seconds = models.PositiveIntegerField(default=0)
    sla_first_response_breached = models.BooleanField(default=False)
    sla_resolution_breached = models.BooleanField(default=False)
    sla_warned = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        db_table = "support_case"
        constraints = [
            models.UniqueConstraint(fields=["installation", "number"], name="case_unique_number"),
            models.UniqueConstraint(fields=["reply_token"], name="case_unique_reply_token"),
            # Staff never see two open cases for one problem: one active case per (order, rule) and
            # per (checkout, rule). Enforced here, so concurrent workers cannot race past it.
            models.UniqueConstraint(
                fields=["installation", "order_saleor_id", "rule"],
                condition=Q(status__in=ACTIVE_STATUSES) & ~Q(order_saleor_id="") & ~Q(rule=""),
                name="case_one_active_per_order_rule",
            ),
            models.UniqueConstraint(
                fields=["installation", "checkout_saleor_id", "rule"],
                condition=Q(status__in=ACTIVE_STATUSES) & ~Q(checkout_saleor_id="") & ~Q(rule=""),
                name="case_one_active_per_checkout_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["installation", "status", "created_at"], name="case_status_idx"),
            models.Index(fields=["installation", "order_saleor_id"], name="case_order_idx"),
            models.Index(fields=["installation", "checkout_saleor_id"], name="case_checkout_idx"),
            # The inbox search's exact order-number arm (selectors/cases.py ``_search``): with it every arm of
            # that OR has an index and PostgreSQL combines them (BitmapOr) instead of scanning the shop's cases.
            # Its trigram siblings for subject and customer e-mail are PostgreSQL-only and live in migration
            # 0003 as raw SQL (case_subject_trgm_idx, customer_email_trgm_idx), not here.
            models.Index(fields=["installation", "order_number"], name="case_order_number_idx"),
            # The staff inbox sorted by SLA due (graphql cases(sortBy: SLA_DUE)): walks this index in order and
            # stops after one page instead of sorting every open case. Partial: resolved and closed cases keep
            # their (long past) due times and would otherwise come first in the walk, to be filtered out one
            # by one; PostgreSQL uses it whenever the query's status filter is a subset of ACTIVE_STATUSES.
            models.Index(
                models.F("installation"),
                case_sla_due_expression(),
                models.F("id"),
                name="case_sla_due_idx",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            # The same walk for one agent's cases ("mine", assignee: me): without it PostgreSQL walks every
            # active case of the shop in SLA order and filters out the other agents' ones.
            models.Index(
                models.F("installation"),
                models.F("assignee_user_id"),
                case_sla_due_expression(),
                models.F("id"),
                name="case_assignee_sla_idx",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"


class CaseTag(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)

    class Meta:
        db_table = "support_case_tag"
        constraints = [models.UniqueConstraint(fields=["case", "name"], name="case_tag_unique")]

    def __str__(self) -> str:
        return self.name


class MessageChannel(models.TextChoices):
    STOREFRONT = "storefront", "Storefront"
    EMAIL = "email", "E-mail"
    DASHBOARD = "dashboard", "Dashboard"
    SYSTEM = "system", "System"


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", "From the customer"
    OUTBOUND = "outbound", "To the customer"


class Message(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=12, choices=MessageChannel.choices)
    direction = models.CharField(max_length=10, choices=MessageDirection.choices)
    author_email = models.EmailField(max_length=254, blank=True, default="")
    author_name = models.CharField(max_length=255, blank=True, default="")
    author_user_id = models.CharField(max_length=255, blank=True, default="")
    subject = models.CharField(max_length=255, blank=True, default="")
    body = models.TextField()
    # [{filename, content_type, size}] — the files themselves are not stored here.
    attachments = models.JSONField(default=list, blank=True)
    email_message_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "support_message"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel} on case {self.case_id}"


class Note(models.Model):
    """Internal note: staff only, never sent to the shopper."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author_email = models.EmailField(max_length=254, blank=True, default="")
    author_user_id = models.CharField(max_length=255, blank=True, default="")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "support_note"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"note on case {self.case_id}"


class CaseEvent(models.Model):
    """The case timeline and audit log. Written only by the functions in ``events.py``."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=48)
    actor_type = models.CharField(max_length=16)  # system | staff | customer | rule
    actor_email = models.EmailField(max_length=254, blank=True, default="")
    actor_user_id = models.CharField(max_length=255, blank=True, default="")
    parameters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "support_case_event"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"], name="case_event_case_idx")]

    def __str__(self) -> str:
        return f"{self.type} on case {self.case_id}"


class CaseCounter(models.Model):
    """Next case number per installation (row-locked when a case is opened)."""

    installation = models.OneToOneField("support.Installation", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "support_case_counter"

    def __str__(self) -> str:
        return f"{self.last_number}"
