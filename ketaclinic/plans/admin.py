"""Treatment plans in the admin: read-only. Writes go through the services (audited, permission-checked)."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.plans.models import (
    PlanDraft,
    PlanEnd,
    PlanOverride,
    PlanVersion,
    SeriesEvent,
    SessionEvent,
    TreatmentPlan,
)

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(_ModelAdmin):
    # Signed versions and the series log are append-only in the database; drafts change only through
    # the services, which check the permission and write the audit entry.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ReadOnlyAdmin):
    list_display = ("id", "patient", "clinic", "created_by", "created_at")
    list_select_related = ("patient", "clinic", "created_by")


@admin.register(PlanDraft)
class PlanDraftAdmin(ReadOnlyAdmin):
    list_display = ("id", "plan", "phase", "created_by", "updated_at", "signed_version")


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ("id", "plan", "number", "phase", "signed_by", "signed_at")


@admin.register(PlanOverride)
class PlanOverrideAdmin(ReadOnlyAdmin):
    list_display = ("id", "plan", "version", "kind", "by", "at")


@admin.register(PlanEnd)
class PlanEndAdmin(ReadOnlyAdmin):
    list_display = ("id", "plan", "ended_by", "ended_at")


@admin.register(SeriesEvent)
class SeriesEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "plan", "appointment_id", "kind", "starts_at", "recorded_at")


@admin.register(SessionEvent)
class SessionEventAdmin(ReadOnlyAdmin):
    list_display = ("plan", "appointment_id", "kind", "recorded_at")
