"""Shared kernel tables: the organisation and its clinics (sites)."""

import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from ketaclinic.core.units import UNIT_SYSTEM_LABELS, UnitSystem


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone name (for example America/New_York).")


class Organisation(models.Model):
    """The practice that runs one installation; clinic-wide settings live here."""

    name = models.CharField(max_length=200)
    idle_session_timeout_min = models.PositiveIntegerField(
        default=15, help_text="Minutes of inactivity after which a signed-in session ends."
    )

    def __str__(self) -> str:
        return self.name


def default_opening_hours() -> dict[str, Any]:
    return {}


class Clinic(models.Model):
    """A site where patients are seen. Patients, staff assignments, stock and money belong to a clinic."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="clinics")
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=20, unique=True, help_text="Short code used in record numbers.")
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True, help_text="State or province.")
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    npi = models.CharField("NPI", max_length=10, blank=True)
    tax_id = models.CharField("Tax ID (TIN)", max_length=20, blank=True)
    dea_registration = models.CharField("DEA registration", max_length=20, blank=True)
    # {"mon": [["08:00", "18:00"]], ...}: day -> list of [opens, closes] in the clinic's local time.
    opening_hours = models.JSONField(default=default_opening_hours, blank=True)
    # How staff read and type weights and heights; the database keeps kg and cm whatever is chosen.
    measurement_units = models.CharField(
        "Units for weight and height",
        max_length=10,
        choices=[(system.value, label) for system, label in UNIT_SYSTEM_LABELS.items()],
        default=UnitSystem.METRIC.value,
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RateWindow(models.Model):
    """How many times one key (a hashed client address and what it asked for) was counted in one window.
    In the database, so every web process counts together (a per-process cache counted N times the limit
    behind N processes). An operational counter, not a record: old windows are deleted."""

    key_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key_hash", "window_start"], name="one_count_per_window")
        ]
        indexes = [models.Index(fields=["window_start"], name="rate_window_start")]

    def __str__(self) -> str:
        return f"{self.count} since {self.window_start:%Y-%m-%d %H:%M}"
