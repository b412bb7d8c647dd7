"""Money records of a clinic: the price list, billing settings, good-faith estimates, invoices, payments,
refunds and package credits.

Every table here is append-only (migration 0002 installs the triggers): a price change is a new price row, a
setting change a new settings row, an invoice's issue and void are rows of their own, and a refund is a new
row pointing at the payment it returns. An invoice's status is derived from its rows, never stored.
"""

from django.conf import settings
from django.db import models

from ketaclinic.core.models import Clinic
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlanVersion, TreatmentPlan
from ketaclinic.scheduling.models import Appointment


class MoneyRow(models.Model):
    """Every billing table: named by its kind and id in the admin and in error messages."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class PackageRefundRule(models.TextChoices):
    PRO_RATA = "pro_rata", "Unused sessions at the package's price per session"
    SINGLE_RATE = "single_rate", "Price paid less used sessions at the single-session price"


class BillingSettings(MoneyRow):
    """A clinic's billing settings; the newest row counts."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    tax_rate_percent = models.DecimalField(max_digits=5, decimal_places=2)
    deposit_amount = models.DecimalField(max_digits=12, decimal_places=2)
    no_show_fee_amount = models.DecimalField(max_digits=12, decimal_places=2)
    package_refund_rule = models.CharField(max_length=20, choices=PackageRefundRule.choices)
    payment_due_days = models.PositiveSmallIntegerField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name_plural = "billing settings"


class PriceKind(models.TextChoices):
    SERVICE = "service", "Service"
    PACKAGE = "package", "Package"


class ServiceKey(models.TextChoices):
    ASSESSMENT = "assessment", "Assessment"
    INFUSION_FIRST_HOUR = "infusion_first_hour", "IV infusion, first hour"
    INFUSION_ADDITIONAL_HOUR = "infusion_additional_hour", "IV infusion, each additional hour"
    INFUSION_PUSH = "infusion_push", "IV push (15 minutes or less)"
    KETAMINE_DRUG = "ketamine_drug", "Ketamine (drug)"
    SCALE = "scale", "Scored assessment instrument"
    SUBLINGUAL = "sublingual", "Sublingual programme"
    PSYCHOTHERAPY = "psychotherapy", "Psychotherapy session"
    FOLLOW_UP = "follow_up", "Follow-up visit"
    NO_SHOW = "no_show", "No-show fee"
    INDUCTION_SERIES = "induction_series", "Induction series (package)"


class PriceItem(MoneyRow):
    """One price, in force from `effective_from` until a newer row for the same clinic and service key."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=PriceKind.choices)
    service_key = models.CharField(max_length=30, choices=ServiceKey.choices)
    code = models.CharField("CPT/HCPCS code", max_length=10, blank=True)
    name = models.CharField(max_length=150)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    sessions = models.PositiveSmallIntegerField(default=1, help_text="Sessions a package covers.")
    taxable = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True, help_text="A row with this off ends the price.")
    effective_from = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["service_key", "-effective_from", "-pk"]
        indexes = [models.Index(fields=["clinic", "service_key", "effective_from"], name="price_in_force")]

    def __str__(self) -> str:
        return f"{self.code or self.service_key} {self.name}"


class GoodFaithEstimate(MoneyRow):
    """A written good-faith estimate (45 CFR 149.610) generated from a signed plan version."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="+")
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=30, unique=True)
    currency = models.CharField(max_length=3)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    # The provider and diagnoses as given on the estimate, so the document reads the same in six years.
    provider = models.JSONField()
    diagnoses = models.JSONField()
    scheduled_on = models.DateField(help_text="The day the first service was booked or requested.")
    service_starts_on = models.DateField()
    due_by = models.DateField()
    protocol_versions = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Estimate {self.number}"


class EstimateLine(MoneyRow):
    estimate = models.ForeignKey(GoodFaithEstimate, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    service_key = models.CharField(max_length=30, choices=ServiceKey.choices)
    code = models.CharField(max_length=10, blank=True)
    description = models.CharField(max_length=200)
    units = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["position"]


class EstimateAcknowledgement(MoneyRow):
    """The patient's (or guardian's) acknowledgement that they received the estimate."""

    estimate = models.OneToOneField(
        GoodFaithEstimate, on_delete=models.PROTECT, related_name="acknowledgement"
    )
    signer_name = models.CharField(max_length=200)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()


class Invoice(MoneyRow):
    """An invoice for visits delivered. Created as a draft; issued and voided by rows of their own."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=30, unique=True)
    currency = models.CharField(max_length=3)
    estimate = models.ForeignKey(
        GoodFaithEstimate, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    subtotal_amount = models.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["clinic", "created_at"], name="invoice_clinic_created")]

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class DiscountKind(models.TextChoices):
    NONE = "", "None"
    SLIDING_SCALE = "sliding_scale", "Sliding scale"
    PACKAGE_CREDIT = "package_credit", "Package credit"


class InvoiceLine(MoneyRow):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    visit = models.ForeignKey(
        InfusionVisit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_on = models.DateField()
    service_key = models.CharField(max_length=30, choices=ServiceKey.choices)
    code = models.CharField(max_length=10, blank=True)
    description = models.CharField(max_length=200)
    units = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    gross_amount = models.DecimalField(max_digits=12, decimal_places=2)
    discount_kind = models.CharField(max_length=20, choices=DiscountKind.choices, blank=True)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    diagnosis_codes = models.JSONField(default=list)

    class Meta:
        ordering = ["position"]
        indexes = [models.Index(fields=["visit"], name="invoice_line_visit")]


class InvoiceIssue(MoneyRow):
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="issue")
    issued_on = models.DateField()
    due_on = models.DateField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()


class InvoiceVoid(MoneyRow):
    """Voids an invoice: its visits can be invoiced again; its payments stay until refunded."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="void")
    reason = models.TextField()
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    voided_at = models.DateTimeField()


class PaymentMethod(models.TextChoices):
    CARD_TERMINAL = "card_terminal", "Card (external terminal)"
    CASH = "cash", "Cash"
    CHEQUE = "cheque", "Cheque"
    FINANCING = "financing", "Financing"
    # Not a way to pay at the desk: the credit a deposit held for the visit gives its invoice.
    DEPOSIT = "deposit", "Deposit applied"


# The methods a patient pays (or leaves a deposit) with at the desk.
DESK_METHODS = [(value, label) for value, label in PaymentMethod.choices if value != PaymentMethod.DEPOSIT]


class Payment(MoneyRow):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    number = models.CharField(max_length=30, unique=True)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=80, blank=True, help_text="Terminal slip, cheque or plan number.")
    received_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_on", "-pk"]


class Refund(MoneyRow):
    """Money returned against a payment: a new row, never a change to the payment."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.TextField()
    refunded_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()


class PackageCredit(MoneyRow):
    """A prepaid series (e.g. six infusions), sold on an invoice line and drawn down by attended infusions."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    price_item = models.ForeignKey(PriceItem, on_delete=models.PROTECT, related_name="+")
    invoice_line = models.OneToOneField(InvoiceLine, on_delete=models.PROTECT, related_name="package")
    sessions = models.PositiveSmallIntegerField()
    price_paid_amount = models.DecimalField(max_digits=12, decimal_places=2)
    single_session_price = models.DecimalField(max_digits=12, decimal_places=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()


class PackageDraw(MoneyRow):
    package = models.ForeignKey(PackageCredit, on_delete=models.PROTECT, related_name="draws")
    invoice_line = models.OneToOneField(InvoiceLine, on_delete=models.PROTECT, related_name="package_draw")
    drawn_at = models.DateTimeField()


class PackageCancellation(MoneyRow):
    package = models.OneToOneField(PackageCredit, on_delete=models.PROTECT, related_name="cancellation")
    unused_sessions = models.PositiveSmallIntegerField()
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2)
    rule = models.CharField(max_length=20, choices=PackageRefundRule.choices)
    reason = models.TextField()
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField()


class Deposit(MoneyRow):
    """Money taken at booking to hold an appointment; one per appointment. Settled once, by a row of its own:
    applied to an invoice, refunded, or kept by the clinic's no-show rule."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="deposit")
    number = models.CharField(max_length=30, unique=True)
    method = models.CharField(max_length=20, choices=DESK_METHODS)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=80, blank=True, help_text="Terminal slip, cheque or plan number.")
    received_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="deposit_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Deposit {self.number}"


class DepositOutcome(models.TextChoices):
    APPLIED = "applied", "Applied to an invoice"
    REFUNDED = "refunded", "Refunded"
    FORFEITED = "forfeited", "Kept by the clinic (no-show)"


class DepositSettlement(MoneyRow):
    """How a deposit ended: at most one row per deposit (the one-to-one is the constraint). An applied
    deposit is a payment of kind "deposit applied" on the invoice; what it does not cover is refunded."""

    deposit = models.OneToOneField(Deposit, on_delete=models.PROTECT, related_name="settlement")
    outcome = models.CharField(max_length=20, choices=DepositOutcome.choices)
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="deposit_settlements"
    )
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="deposit_settlement"
    )
    applied_amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.TextField(blank=True)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    settled_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(outcome="applied")
                | models.Q(invoice__isnull=False, payment__isnull=False),
                name="deposit_applied_has_invoice",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="applied") | ~models.Q(reason=""),
                name="deposit_refund_or_forfeit_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(applied_amount__gte=0, refunded_amount__gte=0),
                name="deposit_settlement_amounts_not_negative",
            ),
        ]


class FeeDecision(models.TextChoices):
    CHARGED = "charged", "Charged"
    WAIVED = "waived", "Waived"


class NoShowFeeDecision(MoneyRow):
    """The clerk's decision on the fee a no-show proposes: charged (a line on an invoice of its own) or waived
    with a reason. One per appointment: a fee is never charged twice."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="no_show_fee")
    decision = models.CharField(max_length=10, choices=FeeDecision.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    invoice_line = models.OneToOneField(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="no_show_fee"
    )
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(decision="charged") & models.Q(invoice_line__isnull=False))
                | (models.Q(decision="waived") & models.Q(invoice_line__isnull=True) & ~models.Q(reason="")),
                name="no_show_fee_charged_has_line_waived_has_reason",
            ),
        ]


APPEND_ONLY_MODELS = (  # the tables migrations 0002 and 0004 make append-only
    "BillingSettings",
    "PriceItem",
    "GoodFaithEstimate",
    "EstimateLine",
    "EstimateAcknowledgement",
    "Invoice",
    "InvoiceLine",
    "InvoiceIssue",
    "InvoiceVoid",
    "Payment",
    "Refund",
    "PackageCredit",
    "PackageDraw",
    "PackageCancellation",
    "Deposit",
    "DepositSettlement",
    "NoShowFeeDecision",
)
