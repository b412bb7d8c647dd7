"""Measures in Django's admin: readable, never editable (the tables are append-only)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.measures.models import (
    Administration,
    Alert,
    AlertAcknowledgement,
    InfusionGiven,
    InfusionGivenWithdrawn,
    InstrumentDefinition,
    MeasureRequest,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InstrumentDefinition)
class InstrumentDefinitionAdmin(ReadOnlyAdmin):
    list_display = ("short_name", "key", "version", "clinic", "respondent", "created_at")


@admin.register(Administration)
class AdministrationAdmin(ReadOnlyAdmin):
    list_display = (
        "administered_at",
        "patient",
        "instrument",
        "total",
        "band_label",
        "context",
        "submitted_via",
    )
    exclude = ("answers",)


@admin.register(MeasureRequest)
class MeasureRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "patient", "instrument", "due_at", "expires_at")
    exclude = ("nonce", "token_hash")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("raised_at", "patient", "kind", "clinician")


@admin.register(AlertAcknowledgement)
class AlertAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ("acknowledged_at", "alert", "action", "acknowledged_by")


@admin.register(InfusionGiven)
class InfusionGivenAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "patient", "visit_id", "clinic", "recorded_by")


@admin.register(InfusionGivenWithdrawn)
class InfusionGivenWithdrawnAdmin(ReadOnlyAdmin):
    list_display = ("withdrawn_at", "infusion", "withdrawn_by")
