"""The audit log in Django's admin: readable, never editable, whoever asks."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.audit.models import AuditEvent

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[AuditEvent]
else:
    _ModelAdmin = admin.ModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(_ModelAdmin):
    list_display = (
        "occurred_at",
        "actor_username",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "patient_record_number",
        "ip_address",
        "channel",
    )
    list_filter = ("action", "channel", "actor_role")
    search_fields = ("actor_username", "patient_record_number", "object_type", "object_id")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor",)
    ordering = ("-occurred_at", "-id")

    # The database refuses changes anyway (append-only triggers); these keep the admin from offering them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
