"""Any sequence of receipts, draws, administrations, wastes and removals keeps, for every vial and in total,
balance = received - drawn - removed, never below zero (wastes come out of what was drawn, not the vial),
and leaves every hash chain intact."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from conftest import make_user
from ketaclinic.accounts.roles import Role
from ketaclinic.core.models import Clinic, Organisation
from ketaclinic.inventory.errors import InventoryDomainError, InventoryError
from ketaclinic.inventory.models import LedgerEntry, RemovalReason, Vial, WasteMethod
from ketaclinic.inventory.services import chain, draws, stock
from ketaclinic.inventory.tests.factories import receive, trusted
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.protocols.services import load_protocol_defaults

amount = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("260"), places=1)
operation = st.one_of(
    st.tuples(st.just("receive"), st.integers(min_value=1, max_value=2)),
    st.tuples(st.just("draw"), st.integers(min_value=0, max_value=5), amount),
    st.tuples(st.just("give"), st.integers(min_value=0, max_value=7), amount),
    st.tuples(st.just("waste"), st.integers(min_value=0, max_value=7), amount),
    st.tuples(st.just("remove"), st.integers(min_value=0, max_value=5)),
)
FULL_MG = Decimal("500.000")


def attempt(service: Callable[..., LedgerEntry], **arguments: Any) -> LedgerEntry | str:
    """The entry a service wrote, or the code of the domain error it raised."""
    try:
        return service(**arguments)
    except InventoryDomainError as error:
        return error.code


class LedgerSequenceTests(TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operation, min_size=1, max_size=14))
    def test_balance_is_received_minus_drawn_minus_removed_and_never_negative(
        self, operations: list[tuple[object, ...]]
    ) -> None:
        load_protocol_defaults()
        clinic = Clinic.objects.create(
            organisation=Organisation.objects.create(name="Org"), name="Main Street", code="main"
        )
        custodian = make_user(Role.CUSTODIAN, clinic)
        nurse = make_user(Role.NURSE, clinic)
        clinician = make_user(Role.CLINICIAN, clinic)
        patient = register_adult(nurse, clinic)
        vials: list[int] = []
        expected: dict[int, Decimal] = {}
        drawn: list[tuple[int, Decimal]] = []  # (draw id, mg not yet given or wasted)
        received = taken = removed = Decimal(0)
        for op in operations:
            kind = op[0]
            if kind == "receive":
                receipt = receive(custodian, clinician, clinic, vials=int(op[1]))  # type: ignore[call-overload]
                for vial in receipt.vials.order_by("pk"):
                    vials.append(vial.pk)
                    expected[vial.pk] = FULL_MG
                    received += FULL_MG
            elif kind == "draw" and vials:
                vial_id = vials[int(op[1]) % len(vials)]  # type: ignore[call-overload]
                mg = Decimal(op[2])  # type: ignore[arg-type]
                result = attempt(
                    draws.draw_from_vial, by=nurse, vial_id=vial_id, amount_mg=mg, patient=patient
                )
                if isinstance(result, str):
                    assert result in (InventoryError.INSUFFICIENT_BALANCE, InventoryError.VIAL_NOT_IN_STOCK)
                    assert mg > expected[vial_id] or expected[vial_id] == 0
                else:
                    assert mg <= expected[vial_id]
                    expected[vial_id] -= mg
                    taken += mg
                    drawn.append((result.pk, mg))
            elif kind in ("give", "waste") and drawn:
                index = int(op[1]) % len(drawn)  # type: ignore[call-overload]
                draw_id, remaining = drawn[index]
                mg = Decimal(op[2])  # type: ignore[arg-type]
                if kind == "give":
                    result = attempt(draws.record_administration, by=nurse, draw_id=draw_id, amount_mg=mg)
                else:
                    result = attempt(
                        draws.record_waste,
                        by=nurse,
                        draw_id=draw_id,
                        amount_mg=mg,
                        method=WasteMethod.DENATURING_CONTAINER,
                        reason="",
                        witness=trusted(clinician),
                    )
                if isinstance(result, str):
                    assert result == InventoryError.EXCEEDS_DRAWN
                    assert mg > remaining
                else:
                    assert mg <= remaining
                    drawn[index] = (draw_id, remaining - mg)
            elif kind == "remove" and vials:
                vial_id = vials[int(op[1]) % len(vials)]  # type: ignore[call-overload]
                result = attempt(
                    stock.remove_vial,
                    by=custodian,
                    clinic=clinic,
                    vial_id=vial_id,
                    reason=RemovalReason.DAMAGED,
                    method=WasteMethod.REVERSE_DISTRIBUTOR,
                    note="",
                    witness=trusted(nurse),
                )
                if isinstance(result, str):
                    assert result == InventoryError.VIAL_NOT_IN_STOCK
                    assert expected[vial_id] == 0
                else:
                    removed += expected[vial_id]
                    expected[vial_id] = Decimal(0)
            balances = dict(Vial.objects.values_list("pk", "balance_mg"))
            assert balances == expected
            assert all(balance >= 0 for balance in balances.values())
            assert sum(balances.values(), Decimal(0)) == received - taken - removed
        ledger_total = sum(LedgerEntry.objects.values_list("balance_change_mg", flat=True), Decimal(0))
        assert ledger_total == received - taken - removed
        report, _check = chain.verify_ledger()
        assert report.intact
