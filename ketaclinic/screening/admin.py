"""Screening in Django's admin: read-only. Writes go through the services (audited, permission-checked)."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.screening.models import (
    AntidepressantTrial,
    Diagnosis,
    EligibilityDecision,
    HardStopOverride,
    HealthHistory,
    Inquiry,
    InquiryNote,
    IntakeSubmission,
    Medication,
    OtherTreatment,
    VitalSigns,
)

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(_ModelAdmin):
    # Clinical rows are append-only in the database; the admin does not offer what it would refuse.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Inquiry)
class InquiryAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "name", "clinic", "status", "patient")
    list_filter = ("status", "clinic")


@admin.register(Diagnosis)
class DiagnosisAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "patient", "icd10_code", "role", "status", "corrects")


@admin.register(Medication)
class MedicationAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "patient", "name", "classes", "stopped_on", "corrects")


@admin.register(EligibilityDecision)
class EligibilityDecisionAdmin(ReadOnlyAdmin):
    list_display = ("signed_at", "patient", "outcome", "signed_by")


@admin.register(HardStopOverride)
class HardStopOverrideAdmin(ReadOnlyAdmin):
    list_display = ("overridden_at", "patient", "finding_code", "overridden_by")


for model in (InquiryNote, IntakeSubmission, AntidepressantTrial, OtherTreatment, HealthHistory, VitalSigns):
    admin.site.register(model, ReadOnlyAdmin)
