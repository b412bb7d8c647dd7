"""A draw names its dose order and infusion visit by id (the ledger sits below dosing and infusions, README
"Decisions"). Wherever a draw or an administration enters (page, API, service), an id that names no order or
visit of that patient is refused and nothing is written."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from ketaclinic.inventory.errors import InventoryDomainError
from ketaclinic.inventory.models import LedgerEntry
from ketaclinic.inventory.services import draws
from tests.authz.world import World

pytestmark = pytest.mark.django_db

MISSING = 987654


def _in_savepoint(action: Any) -> Any:
    with transaction.atomic():
        before = LedgerEntry.objects.count()
        result = action()
        written = LedgerEntry.objects.count() - before
        transaction.set_rollback(True)
    return result, written


def _other_patients_order(world: World) -> int:
    """A dose order of another patient (Walter) of the same clinic."""
    from ketaclinic.dosing.models import DoseOrder

    order = DoseOrder.objects.filter(patient=world.patients["elena"]).get()
    return DoseOrder.objects.create(
        **{
            field.attname: getattr(order, field.attname)
            for field in DoseOrder._meta.concrete_fields
            if field.attname not in {"id", "patient_id"}
        },
        patient_id=world.patients["walter"].pk,
    ).pk


@pytest.mark.parametrize(
    ("order", "visit", "field"),
    [
        (MISSING, None, "dose_order_id"),
        (None, MISSING, "visit_id"),
        ("order", MISSING, "visit_id"),
        (MISSING, "visit", "dose_order_id"),
    ],
)
def test_the_api_refuses_a_draw_against_an_order_or_visit_that_does_not_exist(
    world: World, order: Any, visit: Any, field: str
) -> None:
    body = {
        "vial_id": world.ids["cart_vial_id"],
        "amount_mg": "5",
        "patient_id": world.ids["patient_id"],
        "dose_order_id": world.ids["order_id"] if order == "order" else order,
        "visit_id": world.ids["visit_id"] if visit == "visit" else visit,
    }
    client = world.clients["nurse"]  # type: ignore[attr-defined]
    response, written = _in_savepoint(
        lambda: client.post("/api/inventory/draws", body, content_type="application/json")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_reference"
    assert response.json()["field"] == field
    assert written == 0


def test_the_api_accepts_a_draw_against_the_patients_own_order_and_visit(world: World) -> None:
    body = {
        "vial_id": world.ids["cart_vial_id"],
        "amount_mg": "5",
        "patient_id": world.ids["patient_id"],
        "dose_order_id": world.ids["order_id"],
        "visit_id": world.ids["visit_id"],
    }
    client = world.clients["nurse"]  # type: ignore[attr-defined]
    response, written = _in_savepoint(
        lambda: client.post("/api/inventory/draws", body, content_type="application/json")
    )
    assert response.status_code == 201
    assert (response.json()["dose_order_id"], response.json()["visit_id"]) == (
        world.ids["order_id"],
        world.ids["visit_id"],
    )
    assert written == 1


def test_the_api_refuses_another_patients_order(world: World) -> None:
    client = world.clients["nurse"]  # type: ignore[attr-defined]

    def act() -> Any:
        body = {
            "vial_id": world.ids["cart_vial_id"],
            "amount_mg": "5",
            "patient_id": world.ids["patient_id"],
            "dose_order_id": _other_patients_order(world),
        }
        before = LedgerEntry.objects.count()
        response = client.post("/api/inventory/draws", body, content_type="application/json")
        return response, LedgerEntry.objects.count() - before

    (response, written), _ = _in_savepoint(act)
    assert response.status_code == 400
    assert response.json() == {
        "code": "unknown_reference",
        "message": "Dose order not found for this patient.",
        "field": "dose_order_id",
    }
    assert written == 0


def test_the_page_refuses_a_draw_against_an_order_that_does_not_exist(world: World) -> None:
    body = {
        "vial": world.ids["cart_vial_id"],
        "amount_mg": "5",
        "patient_record_number": world.ids["record_number"],
        "dose_order_id": MISSING,
    }
    client = world.clients["nurse"]  # type: ignore[attr-defined]
    response, written = _in_savepoint(lambda: client.post(reverse("inventory:draw"), body))
    assert response.status_code == 200
    assert response.context["form"].errors == {"dose_order_id": ["Dose order not found for this patient."]}
    assert written == 0


def test_the_api_refuses_an_administration_against_a_visit_that_does_not_exist(world: World) -> None:
    client = world.clients["nurse"]  # type: ignore[attr-defined]

    def act() -> Any:
        draw = draws.draw_from_vial(
            by=world.users["nurse"],
            vial_id=world.ids["cart_vial_id"],
            amount_mg=Decimal(5),
            patient=world.patients["elena"],
        )
        before = LedgerEntry.objects.count()
        response = client.post(
            "/api/inventory/administrations",
            {"draw_id": draw.pk, "amount_mg": "5", "visit_id": MISSING},
            content_type="application/json",
        )
        return response, LedgerEntry.objects.count() - before

    (response, written), _ = _in_savepoint(act)
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_reference"
    assert response.json()["field"] == "visit_id"
    assert written == 0


def test_the_service_refuses_a_visit_of_another_patient(world: World) -> None:
    def act() -> None:
        draws.draw_from_vial(
            by=world.users["nurse"],
            vial_id=world.ids["cart_vial_id"],
            amount_mg=Decimal(5),
            patient=world.patients["walter"],
            visit_id=world.ids["visit_id"],
        )

    with pytest.raises(InventoryDomainError) as raised:
        _in_savepoint(act)
    assert (raised.value.code, raised.value.field) == ("unknown_reference", "visit_id")
    assert raised.value.message == "Infusion visit not found for this patient."
