"""Protocol data: each clinical default is a parameter with an append-only history of values.

A parameter says what a number means (key, population, unit, kind); its values are versions 1, 2, 3...; the
current value is the highest version. The database refuses UPDATE and DELETE on values (migration 0002), so
the history a clinician sees is the history there was.
"""

from django.conf import settings
from django.db import models
from django.dispatch import Signal

from ketaclinic.core.inputs import REASON_MAX_CHARS
from ketaclinic.protocols.rules import (
    SOURCE_MAX_LENGTH,
    VALUE_MAX_LENGTH,
    Population,
    ValueKind,
)


class PopulationChoice(models.TextChoices):
    ALL = Population.ALL.value, "All patients"
    ADULT = Population.ADULT.value, "Adults"
    CHILD = Population.CHILD.value, "Children and adolescents"
    OLDER_ADULT = Population.OLDER_ADULT.value, "Older adults"
    END_OF_LIFE = Population.END_OF_LIFE.value, "End of life"


class Category(models.TextChoices):
    DOSING = "dosing", "Dosing"
    SERIES = "series", "Treatment series"
    VITAL_SIGNS = "vital_signs", "Vital signs"
    RECOVERY = "recovery", "Recovery and discharge"
    SCALES = "scales", "Rating scales"
    POPULATIONS = "populations", "Populations"
    CONSENT = "consent", "Consent"
    ESKETAMINE = "esketamine", "Esketamine (Spravato)"
    CONTROLLED_SUBSTANCES = "controlled_substances", "Controlled substances"
    BILLING = "billing", "Billing"


class ValueKindChoice(models.TextChoices):
    DECIMAL = ValueKind.DECIMAL.value, "Number"
    INTEGER = ValueKind.INTEGER.value, "Whole number"
    TEXT = ValueKind.TEXT.value, "Text"
    BOOLEAN = ValueKind.BOOLEAN.value, "Yes or no"
    DECIMAL_LIST = ValueKind.DECIMAL_LIST.value, "List of numbers"


class ProtocolParameter(models.Model):
    """What a protocol value means. Its values live in ProtocolValue; this row never changes meaning."""

    key = models.SlugField(
        max_length=80, help_text="The name code reads it by, e.g. dose_standard_mg_per_kg."
    )
    population = models.CharField(
        max_length=20, choices=PopulationChoice.choices, default=PopulationChoice.ALL
    )
    category = models.CharField(max_length=30, choices=Category.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=40, blank=True, help_text="For example mg/kg, mmHg, min, years.")
    value_kind = models.CharField(max_length=20, choices=ValueKindChoice.choices)

    class Meta:
        ordering = ["category", "key", "population"]
        constraints = [
            models.UniqueConstraint(fields=["key", "population"], name="protocol_parameter_key_population"),
            models.CheckConstraint(
                condition=models.Q(population__in=PopulationChoice.values),
                name="protocol_parameter_population",
            ),
            models.CheckConstraint(
                condition=models.Q(value_kind__in=ValueKindChoice.values),
                name="protocol_parameter_value_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.population})"


class ProtocolValue(models.Model):
    """One version of a parameter's value, with its source and why it was set. Append-only."""

    parameter = models.ForeignKey(ProtocolParameter, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    # Text, canonicalised by rules.normalise_value for the parameter's kind; read typed through selectors.
    value = models.CharField(max_length=VALUE_MAX_LENGTH)
    source = models.TextField(max_length=SOURCE_MAX_LENGTH)
    verified = models.BooleanField(
        default=False, help_text="False ships as 'confirm before use' until a clinician confirms it."
    )
    reason = models.TextField(max_length=REASON_MAX_CHARS, blank=True)
    # Null only for rows written by the defaults loader, which no person ran through the interface.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version this one replaces.",
    )

    class Meta:
        ordering = ["parameter", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["parameter", "version"], name="protocol_value_parameter_version"),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="protocol_value_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parameter.key} v{self.version} = {self.value}"


# Sent after protocol rows were written in bulk (`bulk_create` sends no post_save): the readers' caches
# forget what they read (`protocols.selectors.forget_cached_readings`).
protocol_rows_loaded = Signal()
