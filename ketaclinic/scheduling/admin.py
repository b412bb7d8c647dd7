"""Read-only admin for the schedule: changes go through the services (and the append-only logs)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentStatusChange,
    Chair,
    Closure,
    InstructionConfirmation,
    ReminderSent,
    StaffHours,
)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


for model in (
    Appointment,
    AppointmentStatusChange,
    Chair,
    Closure,
    InstructionConfirmation,
    ReminderSent,
    StaffHours,
):
    admin.site.register(model, ReadOnlyAdmin)
