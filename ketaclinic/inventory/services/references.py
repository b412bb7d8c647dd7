"""The ledger names dose orders and infusion visits by id, not by foreign key: `dosing` and `infusions` sit
above `inventory` (README, "Decisions"). The apps that own those rows register a check here when Django
starts; every draw and administration asks it, so an id that names no order or visit of that patient is
refused wherever the draw enters (page, API or another app's service)."""

from collections.abc import Callable
from typing import Literal

from ketaclinic.inventory.errors import InventoryDomainError, InventoryError

Kind = Literal["dose_order", "visit"]
# (patient id, referenced id) -> True when that row exists and belongs to that patient.
Check = Callable[[int, int], bool]

_CHECKS: dict[Kind, Check] = {}
_LABELS: dict[Kind, tuple[str, str]] = {
    "dose_order": ("dose_order_id", "Dose order"),
    "visit": ("visit_id", "Infusion visit"),
}


def register(kind: Kind, check: Check) -> None:
    """Called from the owning app's AppConfig.ready()."""
    _CHECKS[kind] = check


def require_references(
    *, patient_id: int, dose_order_id: int | None = None, visit_id: int | None = None
) -> None:
    """Refuse an order or visit id that names no row of this patient. With no check registered (the owning
    app is not installed) every id is refused: the ledger never stores a link it cannot vouch for."""
    named: tuple[tuple[Kind, int | None], ...] = (("dose_order", dose_order_id), ("visit", visit_id))
    for kind, ref_id in named:
        if ref_id is None:
            continue
        check = _CHECKS.get(kind)
        if check is None or not check(patient_id, ref_id):
            field, label = _LABELS[kind]
            raise InventoryDomainError(
                InventoryError.UNKNOWN_REFERENCE, f"{label} not found for this patient.", field=field
            )
