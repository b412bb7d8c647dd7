"""Dose orders, hard-stop overrides and co-signatures. All three are append-only (migration 0002).

An order stores what was entered, what was computed, the findings at the time and the protocol versions it
was computed under. A change is a new order that `supersedes` the old one, with a reason. An order's status
is derived (never stored): superseded, ready (co-signed) or awaiting co-signature.
"""

from django.conf import settings
from django.db import models

from ketaclinic.core.models import Clinic
from ketaclinic.dosing.rules import BodySex, WeightBasis, volume_rounding_note
from ketaclinic.patients.models import Patient


class Drug(models.TextChoices):
    KETAMINE = "ketamine", "Ketamine (racemic), as base"


class Route(models.TextChoices):
    IV = "iv", "Intravenous infusion"


class WeightBasisChoice(models.TextChoices):
    ACTUAL = WeightBasis.ACTUAL.value, "Actual body weight"
    IDEAL = WeightBasis.IDEAL.value, "Ideal body weight (Devine)"
    ADJUSTED = WeightBasis.ADJUSTED.value, "Adjusted body weight"


class BodySexChoice(models.TextChoices):
    MALE = BodySex.MALE.value, "Male"
    FEMALE = BodySex.FEMALE.value, "Female"
    UNKNOWN = BodySex.UNKNOWN.value, "Not known"


class OrderStatus(models.TextChoices):
    AWAITING_COSIGNATURE = "awaiting_cosignature", "Awaiting co-signature"
    READY = "ready", "Ready (signed and co-signed)"
    SUPERSEDED = "superseded", "Superseded"


class DoseOrder(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="dose_orders")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    drug = models.CharField(max_length=20, choices=Drug.choices, default=Drug.KETAMINE)
    route = models.CharField(max_length=10, choices=Route.choices, default=Route.IV)
    # What the prescriber entered.
    weight_kg = models.DecimalField(max_digits=9, decimal_places=3)
    weight_measured_on = models.DateField()
    height_cm = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=3)
    sex_for_ideal_weight = models.CharField(max_length=10, choices=BodySexChoice.choices)
    dose_mg_per_kg = models.DecimalField(max_digits=9, decimal_places=3)
    duration_min = models.PositiveIntegerField()
    vial_concentration_mg_per_ml = models.DecimalField(max_digits=9, decimal_places=3)
    diluent_volume_ml = models.DecimalField(max_digits=9, decimal_places=3)
    note = models.TextField(blank=True)
    # What the rules computed from it.
    population = models.CharField(max_length=20)
    weight_basis = models.CharField(max_length=10, choices=WeightBasisChoice.choices)
    body_mass_index_kg_per_m2 = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=3)
    dosing_weight_kg = models.DecimalField(max_digits=9, decimal_places=3)
    # What the drawn volume holds (volume x vial concentration): the bag, pump, curve and ledger use it.
    dose_mg = models.DecimalField(max_digits=9, decimal_places=3)
    # mg/kg x dosing weight, before the volume was rounded to the syringe's step (empty on older orders).
    calculated_dose_mg = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=3)
    drug_volume_ml = models.DecimalField(max_digits=9, decimal_places=3)
    total_volume_ml = models.DecimalField(max_digits=9, decimal_places=3)
    final_concentration_mg_per_ml = models.DecimalField(max_digits=9, decimal_places=3)
    rate_ml_per_h = models.DecimalField(max_digits=9, decimal_places=3)
    rate_mg_per_min = models.DecimalField(max_digits=9, decimal_places=3)
    pk_model_key = models.CharField(max_length=20)
    predicted_peak_ng_per_ml = models.DecimalField(max_digits=9, decimal_places=3)
    predicted_peak_at_min = models.DecimalField(max_digits=9, decimal_places=3)
    # [{"code", "severity", "message"}] as found when prescribed.
    findings = models.JSONField(default=list)
    # [{"key", "population", "version", "value_id", "value"}]: every protocol value the computation read.
    protocol_snapshot = models.JSONField(default=list)
    prescribed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prescribed_at = models.DateTimeField()
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        help_text="The order this one replaces.",
    )
    supersede_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-prescribed_at", "-id"]
        indexes = [models.Index(fields=["patient", "-prescribed_at"], name="dose_order_patient_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(supersedes__isnull=True, supersede_reason="")
                | (models.Q(supersedes__isnull=False) & ~models.Q(supersede_reason="")),
                name="dose_order_supersede_reason",
            ),
            models.CheckConstraint(condition=models.Q(duration_min__gt=0), name="dose_order_duration"),
        ]

    def __str__(self) -> str:
        return f"Dose order {self.pk}: {self.dose_mg} mg over {self.duration_min} min"

    @property
    def volume_rounding_note(self) -> str:
        """What the order says about the draw-up volume's rounding (empty on orders from before)."""
        return volume_rounding_note(
            calculated_dose_mg=self.calculated_dose_mg,
            dose_mg=self.dose_mg,
            drug_volume_ml=self.drug_volume_ml,
        )


class HardStopOverride(models.Model):
    """A clinician's decision to go ahead despite one hard stop of one order, with the reason."""

    order = models.ForeignKey(DoseOrder, on_delete=models.PROTECT, related_name="overrides")
    code = models.CharField(max_length=40)
    message = models.TextField(help_text="The hard stop as it was shown when overridden.")
    reason = models.TextField()
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    overridden_at = models.DateTimeField()

    class Meta:
        ordering = ["overridden_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "code"], name="hard_stop_override_once"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="hard_stop_override_reason"),
        ]

    def __str__(self) -> str:
        return f"Override of {self.code} on order {self.order_id}"


class OrderCosignature(models.Model):
    """The second person's independent check: the pump rate they worked out matched the computed one."""

    order = models.OneToOneField(DoseOrder, on_delete=models.PROTECT, related_name="cosignature")
    entered_rate_ml_per_h = models.DecimalField(max_digits=9, decimal_places=3)
    cosigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cosigned_at = models.DateTimeField()

    class Meta:
        ordering = ["cosigned_at", "id"]

    def __str__(self) -> str:
        return f"Co-signature of order {self.order_id}"
