"""The controlled-substance ledger: drug products, storage locations, receipts, vials, the hash-chained
ledger of everything that happens to a vial, counts and discrepancies.

A vial's `balance_mg`/`balance_ml` is the running balance the services keep under a row lock; the ledger
entries are the record it is computed from. Ledger entries, receipts, counts, discrepancies and their
resolutions are append-only (migration 0002): the database refuses UPDATE and DELETE on them.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from ketaclinic.core.models import Clinic
from ketaclinic.inventory.rules import EntryKind
from ketaclinic.patients.models import Patient


class Schedule(models.TextChoices):
    II = "II", "Schedule II"
    III = "III", "Schedule III"
    IV = "IV", "Schedule IV"
    V = "V", "Schedule V"


class DrugProduct(models.Model):
    """A stocked product: one substance, strength and container size, identified by its NDC."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="drug_products")
    name = models.CharField(max_length=120, help_text="For example 'Ketamine HCl injection'.")
    substance = models.CharField(max_length=60, help_text="For example 'ketamine'.")
    schedule = models.CharField(max_length=3, choices=Schedule.choices)
    ndc = models.CharField("NDC", max_length=20)
    dosage_form = models.CharField(max_length=60, default="injection, solution")
    concentration_mg_per_ml = models.DecimalField(max_digits=8, decimal_places=3)
    vial_volume_ml = models.DecimalField(max_digits=8, decimal_places=3)
    multi_dose = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["substance", "concentration_mg_per_ml", "vial_volume_ml"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "ndc"], name="inventory_product_clinic_ndc"),
            models.CheckConstraint(
                condition=models.Q(concentration_mg_per_ml__gt=0) & models.Q(vial_volume_ml__gt=0),
                name="inventory_product_positive_strength",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.strength_label}"

    @property
    def strength_label(self) -> str:
        return (
            f"{self.concentration_mg_per_ml.normalize():f} mg/mL, {self.vial_volume_ml.normalize():f} mL vial"
        )


class ChainHead(models.Model):
    """The last entry of one product's chain. Locked by every append, so a product's entries form one line;
    verification also checks that the chain still reaches this far (no entries cut off its end)."""

    product = models.OneToOneField(DrugProduct, on_delete=models.PROTECT, related_name="chain_head")
    sequence = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.product_id} at {self.sequence}"


class StorageLocation(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="storage_locations")
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="inventory_location_clinic_name")
        ]

    def __str__(self) -> str:
        return self.name


class Receipt(models.Model):
    """A delivery from a supplier, as the invoice or packing slip shows it (21 CFR 1304.22(c))."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(DrugProduct, on_delete=models.PROTECT, related_name="receipts")
    lot = models.CharField(max_length=40)
    expires_on = models.DateField()
    vial_count = models.PositiveIntegerField()
    invoice_number = models.CharField(max_length=60)
    supplier_name = models.CharField(max_length=150)
    supplier_address = models.CharField(max_length=300)
    supplier_dea_number = models.CharField("Supplier DEA number", max_length=20)
    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(vial_count__gt=0), name="receipt_vials")]

    def __str__(self) -> str:
        return f"{self.product} lot {self.lot} x{self.vial_count}"


class VialStatus(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    EMPTY = "empty", "Empty"
    REMOVED = "removed", "Removed"


class Vial(models.Model):
    """One container, with its running balance. The balance can never go below zero (a database check, and
    the services refuse first)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(DrugProduct, on_delete=models.PROTECT, related_name="vials")
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="vials")
    label = models.CharField(max_length=30)
    lot = models.CharField(max_length=40)
    expires_on = models.DateField()
    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="vials")
    balance_mg = models.DecimalField(max_digits=12, decimal_places=3)
    balance_ml = models.DecimalField(max_digits=12, decimal_places=3)
    opened_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=VialStatus.choices, default=VialStatus.IN_STOCK)

    class Meta:
        ordering = ["product", "expires_on", "label"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "label"], name="inventory_vial_clinic_label"),
            models.CheckConstraint(
                condition=models.Q(balance_mg__gte=0) & models.Q(balance_ml__gte=0),
                name="inventory_vial_balance_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "status", "product"], name="inventory_vial_stock")]

    def __str__(self) -> str:
        return f"{self.label} ({self.product.strength_label}, lot {self.lot})"


class WasteMethod(models.TextChoices):
    DENATURING_CONTAINER = "denaturing_container", "Into a chemical denaturing waste container"
    REVERSE_DISTRIBUTOR = "reverse_distributor", "Returned to a reverse distributor"
    OTHER = "other", "Other (described in the reason)"


class RemovalReason(models.TextChoices):
    EXPIRED = "expired", "Expired"
    PAST_DISCARD_DATE = "past_discard_date", "Past its discard-after-opening date"
    DAMAGED = "damaged", "Damaged or contaminated"
    OTHER = "other", "Other"


class LedgerEntry(models.Model):
    """One event in a product's chain. `entry_hash` is sha256 over `previous_hash` and the fields listed in
    rules.HASHED_FIELDS; `previous_hash` is the hash of the product's entry before it.

    amount_* is what the entry is about (drawn, given, wasted, counted...), always >= 0; balance_change_*
    is its signed effect on the vial's balance; balance_after_* the vial's balance after it.
    `dose_order_id` and `visit_id` are plain ids of a dosing.DoseOrder and an infusion visit: those apps sit
    above this one, and validate the ids before they call in.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(DrugProduct, on_delete=models.PROTECT, related_name="entries")
    sequence = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=15, choices=[(kind.value, kind.value.title()) for kind in EntryKind])
    vial = models.ForeignKey(Vial, on_delete=models.PROTECT, related_name="entries")
    amount_mg = models.DecimalField(max_digits=12, decimal_places=3)
    amount_ml = models.DecimalField(max_digits=12, decimal_places=3)
    balance_change_mg = models.DecimalField(max_digits=12, decimal_places=3)
    balance_change_ml = models.DecimalField(max_digits=12, decimal_places=3)
    balance_after_mg = models.DecimalField(max_digits=12, decimal_places=3)
    balance_after_ml = models.DecimalField(max_digits=12, decimal_places=3)
    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(
        StorageLocation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="controlled_drug_entries"
    )
    dose_order_id = models.BigIntegerField(null=True, blank=True)
    visit_id = models.BigIntegerField(null=True, blank=True)
    draw = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=30, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["product", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["product", "sequence"], name="inventory_entry_product_sequence"),
            models.CheckConstraint(
                condition=models.Q(amount_mg__gte=0)
                & models.Q(amount_ml__gte=0)
                & models.Q(balance_after_mg__gte=0)
                & models.Q(balance_after_ml__gte=0),
                name="inventory_entry_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "dose_order_id"], name="inventory_entry_order"),
            models.Index(fields=["vial", "sequence"], name="inventory_entry_vial"),
            models.Index(fields=["draw"], name="inventory_entry_draw"),
            models.Index(fields=["clinic", "kind", "occurred_at"], name="inventory_entry_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}#{self.sequence} {self.kind}"

    @property
    def method_label(self) -> str:
        return str(WasteMethod(self.method).label) if self.method in WasteMethod.values else self.method


class CountPurpose(models.TextChoices):
    SHIFT = "shift", "Shift change"
    END_OF_DAY = "end_of_day", "End of day"
    BIENNIAL = "biennial", "Biennial inventory"
    INITIAL = "initial", "Initial inventory"


class BusinessTime(models.TextChoices):
    OPENING = "opening", "Opening of business"
    CLOSE = "close", "Close of business"


class StockCount(models.Model):
    """Two people count the vials at a location (or all of them) against the book balance."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        StorageLocation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(max_length=12, choices=CountPurpose.choices)
    business_time = models.CharField(max_length=10, choices=BusinessTime.choices)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    counted_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-counted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} count {self.counted_at:%Y-%m-%d %H:%M}"


class CountLine(models.Model):
    count = models.ForeignKey(StockCount, on_delete=models.PROTECT, related_name="lines")
    vial = models.ForeignKey(Vial, on_delete=models.PROTECT, related_name="+")
    expected_ml = models.DecimalField(max_digits=12, decimal_places=3)
    counted_ml = models.DecimalField(max_digits=12, decimal_places=3)
    expected_mg = models.DecimalField(max_digits=12, decimal_places=3)
    counted_mg = models.DecimalField(max_digits=12, decimal_places=3)

    class Meta:
        ordering = ["count", "vial__product", "vial__label"]
        constraints = [
            models.UniqueConstraint(fields=["count", "vial"], name="inventory_count_line_vial"),
            models.CheckConstraint(
                condition=models.Q(counted_ml__gte=0), name="inventory_count_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"count {self.count_id} vial {self.vial_id}"

    @property
    def matches(self) -> bool:
        return self.expected_ml == self.counted_ml


class DiscrepancySource(models.TextChoices):
    COUNT = "count", "Count did not match the book"
    RECONCILIATION = "reconciliation", "Drawn is not given + wasted"


class Discrepancy(models.Model):
    """A mismatch to investigate. Open until a resolution row points at it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(DrugProduct, on_delete=models.PROTECT, related_name="+")
    vial = models.ForeignKey(Vial, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=15, choices=DiscrepancySource.choices)
    count_line = models.OneToOneField(
        CountLine, null=True, blank=True, on_delete=models.PROTECT, related_name="discrepancy"
    )
    dose_order_id = models.BigIntegerField(null=True, blank=True)
    expected_mg = models.DecimalField(max_digits=12, decimal_places=3)
    found_mg = models.DecimalField(max_digits=12, decimal_places=3)
    expected_ml = models.DecimalField(max_digits=12, decimal_places=3)
    found_ml = models.DecimalField(max_digits=12, decimal_places=3)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "dose_order_id"],
                condition=models.Q(source="reconciliation"),
                name="inventory_discrepancy_one_per_order",
            )
        ]

    def __str__(self) -> str:
        return f"Discrepancy {self.pk} ({self.get_source_display()})"

    @property
    def difference_mg(self) -> Decimal:
        return self.found_mg - self.expected_mg

    @property
    def difference_ml(self) -> Decimal:
        return self.found_ml - self.expected_ml


class ResolutionKind(models.TextChoices):
    MINOR_VARIANCE = "minor_variance", "Minor variance (explained, recorded)"
    THEFT_OR_LOSS = "theft_or_loss", "Theft or significant loss (DEA Form 106)"


class LossType(models.TextChoices):
    EMPLOYEE_THEFT = "employee_theft", "Employee theft"
    BREAK_IN = "break_in", "Night break-in"
    ARMED_ROBBERY = "armed_robbery", "Armed robbery"
    CUSTOMER_THEFT = "customer_theft", "Customer theft"
    LOST_IN_TRANSIT = "lost_in_transit", "Lost in transit"
    UNEXPLAINED = "unexplained", "Unexplained loss"
    OTHER = "other", "Other"


class DiscrepancyResolution(models.Model):
    """The custodian's finding. A theft or significant loss carries what DEA Form 106 asks for."""

    discrepancy = models.OneToOneField(Discrepancy, on_delete=models.PROTECT, related_name="resolution")
    kind = models.CharField(max_length=15, choices=ResolutionKind.choices)
    reason = models.TextField()
    loss_type = models.CharField(max_length=20, choices=LossType.choices, blank=True)
    police_notified = models.BooleanField(default=False)
    police_department = models.CharField(max_length=150, blank=True)
    police_report_number = models.CharField(max_length=60, blank=True)
    adjustment = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.discrepancy_id})"


class LedgerCheck(models.Model):
    """The result of one verification of the hash chains (command or page), so pages show the latest
    result without re-reading the whole ledger."""

    clinic = models.ForeignKey(Clinic, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()
    entries_checked = models.PositiveBigIntegerField()
    intact = models.BooleanField()
    broken_entry = models.ForeignKey(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    broken_product = models.ForeignKey(
        DrugProduct, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    broken_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=20, blank=True)
    # Vials whose running balance differs from the sum of their ledger entries (the balance was changed
    # outside the services): their ids, comma-separated.
    vials_out_of_balance = models.CharField(max_length=300, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"check {self.checked_at:%Y-%m-%d %H:%M}: {'intact' if self.intact else 'broken'}"
