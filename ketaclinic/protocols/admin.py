"""Read-only admin for protocol data: values change only through the protocol page or API (a service), which
records the reason and the audit entry; the database refuses UPDATE and DELETE on values anyway."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.protocols.models import ProtocolParameter, ProtocolValue


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProtocolValueInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ProtocolValue
    fk_name = "parameter"
    fields = ("version", "value", "verified", "source", "reason", "changed_by", "changed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-version",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProtocolParameter)
class ProtocolParameterAdmin(ReadOnlyAdmin):
    list_display = ("key", "population", "category", "name", "unit", "value_kind")
    list_filter = ("category", "population")
    search_fields = ("key", "name", "description")
    inlines = (ProtocolValueInline,)


@admin.register(ProtocolValue)
class ProtocolValueAdmin(ReadOnlyAdmin):
    list_display = ("parameter", "version", "value", "verified", "changed_by", "changed_at")
    list_filter = ("verified", "parameter__category")
    search_fields = ("parameter__key", "value", "source", "reason")
    list_select_related = ("parameter", "changed_by")
