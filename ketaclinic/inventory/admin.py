"""Read-only admin for the ledger: rows are written by the services and the database refuses changes."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.inventory.models import (
    Discrepancy,
    DiscrepancyResolution,
    DrugProduct,
    LedgerEntry,
    Receipt,
    StockCount,
    StorageLocation,
    Vial,
)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["product", "sequence", "kind", "vial", "amount_mg", "performed_by", "occurred_at"]
    list_filter = ["kind", "product"]


@admin.register(DrugProduct)
class DrugProductAdmin(ReadOnlyAdmin):
    list_display = ["name", "ndc", "schedule", "concentration_mg_per_ml", "vial_volume_ml", "clinic"]


@admin.register(StorageLocation)
class StorageLocationAdmin(ReadOnlyAdmin):
    list_display = ["name", "clinic", "is_active"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["product", "lot", "vial_count", "received_on", "supplier_name"]


@admin.register(Vial)
class VialAdmin(ReadOnlyAdmin):
    list_display = ["label", "product", "lot", "balance_mg", "status", "location"]


@admin.register(StockCount)
class StockCountAdmin(ReadOnlyAdmin):
    list_display = ["counted_at", "purpose", "location", "counted_by", "witness"]


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdmin):
    list_display = ["opened_at", "product", "source", "expected_mg", "found_mg"]


@admin.register(DiscrepancyResolution)
class DiscrepancyResolutionAdmin(ReadOnlyAdmin):
    list_display = ["discrepancy", "kind", "resolved_by", "resolved_at"]
