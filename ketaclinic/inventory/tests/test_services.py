"""Receipts, draws, administrations, wastes, removals, counts, discrepancies and the witness's sign-in."""

import datetime as dt
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.inventory import rules
from ketaclinic.inventory.errors import InventoryDomainError, InventoryError, WitnessRefused
from ketaclinic.inventory.models import (
    BusinessTime,
    ChainHead,
    CountPurpose,
    Discrepancy,
    DrugProduct,
    LedgerEntry,
    LossType,
    RemovalReason,
    ResolutionKind,
    Schedule,
    VialStatus,
    WasteMethod,
)
from ketaclinic.inventory.services import chain, counts, draws, stock, witness
from ketaclinic.inventory.services.witness import WitnessCredentials
from ketaclinic.inventory.tests.factories import TEST_PASSWORD, mg, product, receive, signed, trusted
from ketaclinic.patients.tests.factories import register_adult

pytestmark = pytest.mark.django_db


def test_standard_products_are_seeded_once_with_their_schedules(clinic) -> None:
    assert stock.ensure_standard_products(clinic=clinic) == 4
    assert stock.ensure_standard_products(clinic=clinic) == 0
    products = {
        (p.substance, p.concentration_mg_per_ml, p.vial_volume_ml, p.schedule)
        for p in DrugProduct.objects.filter(clinic=clinic)
    }
    assert products == {
        ("ketamine", Decimal("50.000"), Decimal("10.000"), Schedule.III),
        ("ketamine", Decimal("100.000"), Decimal("5.000"), Schedule.III),
        ("ketamine", Decimal("10.000"), Decimal("20.000"), Schedule.III),
        ("midazolam", Decimal("1.000"), Decimal("2.000"), Schedule.IV),
    }
    assert ChainHead.objects.filter(product__clinic=clinic, sequence=0).count() == 4


def test_receipt_gives_each_vial_an_identity_full_balance_and_a_chained_entry(
    custodian, clinician, clinic, safe
) -> None:
    receipt = receive(custodian, clinician, clinic, vials=3, where=safe)
    vials = list(receipt.vials.order_by("pk"))
    assert [v.label for v in vials] == [f"R{receipt.pk}-01", f"R{receipt.pk}-02", f"R{receipt.pk}-03"]
    assert {(v.balance_mg, v.balance_ml, v.status) for v in vials} == {
        (Decimal("500.000"), Decimal("10.000"), VialStatus.IN_STOCK)
    }
    entries = list(LedgerEntry.objects.filter(product=receipt.product).order_by("sequence"))
    assert [(e.sequence, e.kind, e.amount_mg, e.witness_id) for e in entries] == [
        (1, "received", Decimal("500.000"), clinician.pk),
        (2, "received", Decimal("500.000"), clinician.pk),
        (3, "received", Decimal("500.000"), clinician.pk),
    ]
    assert entries[0].previous_hash == rules.GENESIS_HASH
    assert entries[1].previous_hash == entries[0].entry_hash
    head = ChainHead.objects.get(product=receipt.product)
    assert (head.sequence, head.entry_hash) == (3, entries[2].entry_hash)
    assert AuditEvent.objects.filter(object_type="receipt", actor=custodian).count() == 1


def test_receipt_refuses_wrong_ndc_expired_lot_and_non_custodian(
    custodian, clinician, nurse, clinic, safe
) -> None:
    drug = product(clinic)
    with pytest.raises(InventoryDomainError) as wrong:
        stock.receive_delivery(
            by=custodian,
            clinic=clinic,
            product=drug,
            ndc="12345-678-90",
            lot="X",
            expires_on=clock.today_in(clinic.time_zone) + dt.timedelta(days=30),
            vial_count=1,
            invoice_number="I",
            supplier_name="S",
            supplier_address="A",
            supplier_dea_number="D",
            location=safe,
            received_on=clock.today_in(clinic.time_zone),
            witness=trusted(clinician),
        )
    assert wrong.value.code == InventoryError.NDC_MISMATCH
    with pytest.raises(InventoryDomainError) as expired:
        receive(custodian, clinician, clinic, where=safe, expires_on=dt.date(2020, 1, 1))
    assert expired.value.code == InventoryError.EXPIRED_ON_RECEIPT
    with pytest.raises(PermissionDenied):
        receive(nurse, clinician, clinic, where=safe)


def test_draw_lowers_the_vial_opens_it_and_links_patient_and_order(nurse, vial, patient) -> None:
    entry = draws.draw_from_vial(
        by=nurse, vial_id=vial.pk, amount_mg=mg("40"), patient=patient, dose_order_id=9
    )
    vial.refresh_from_db()
    assert (entry.kind, entry.amount_mg, entry.amount_ml) == ("drawn", Decimal("40.000"), Decimal("0.800"))
    assert (entry.balance_after_mg, entry.balance_after_ml) == (Decimal("460.000"), Decimal("9.200"))
    assert (entry.patient_id, entry.dose_order_id) == (patient.pk, 9)
    assert (vial.balance_mg, vial.balance_ml) == (Decimal("460.000"), Decimal("9.200"))
    assert vial.opened_at == entry.occurred_at
    audit = AuditEvent.objects.get(object_type="controlled_drug_draw")
    assert (audit.patient_id, audit.actor_id) == (patient.pk, nurse.pk)


def test_draw_cannot_overdraw_and_empties_the_vial_exactly(nurse, vial, patient) -> None:
    with pytest.raises(InventoryDomainError) as too_much:
        draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("500.001"), patient=patient)
    assert too_much.value.code == InventoryError.INSUFFICIENT_BALANCE
    draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("500"), patient=patient)
    vial.refresh_from_db()
    assert (vial.balance_mg, vial.status) == (Decimal("0.000"), VialStatus.EMPTY)
    with pytest.raises(InventoryDomainError) as empty:
        draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("1"), patient=patient)
    assert empty.value.code == InventoryError.VIAL_NOT_IN_STOCK


def test_draw_refused_after_discard_time_from_opening(nurse, vial, patient, monkeypatch) -> None:
    draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("10"), patient=patient)
    later = clock.now() + dt.timedelta(days=28, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(InventoryDomainError) as refused:
        draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("10"), patient=patient)
    assert refused.value.code == InventoryError.VIAL_PAST_DISCARD_DATE


def test_draw_refused_from_an_expired_vial(
    custodian, clinician, nurse, clinic, safe, patient, monkeypatch
) -> None:
    soon = clock.today_in(clinic.time_zone) + dt.timedelta(days=2)
    expiring = receive(custodian, clinician, clinic, vials=1, where=safe, expires_on=soon).vials.get()
    later = clock.now() + dt.timedelta(days=4)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(InventoryDomainError) as refused:
        draws.draw_from_vial(by=nurse, vial_id=expiring.pk, amount_mg=mg("10"), patient=patient)
    assert refused.value.code == InventoryError.VIAL_EXPIRED


def test_draw_for_another_clinics_patient_is_refused(nurse, vial, other_clinic, outsider) -> None:
    stranger = register_adult(outsider, other_clinic)
    with pytest.raises(InventoryDomainError) as refused:
        draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("10"), patient=stranger)
    assert refused.value.code == InventoryError.CLINIC_NOT_YOURS


def test_only_nurses_draw(clinician, custodian, vial, patient) -> None:
    for person in (clinician, custodian):
        with pytest.raises(PermissionDenied):
            draws.draw_from_vial(by=person, vial_id=vial.pk, amount_mg=mg("10"), patient=patient)
    assert LedgerEntry.objects.filter(kind="drawn").count() == 0


def test_given_plus_wasted_reconciles_the_order_and_never_exceeds_the_draw(
    nurse, clinician, vial, patient, clinic
) -> None:
    draw = draws.draw_from_vial(
        by=nurse, vial_id=vial.pk, amount_mg=mg("50"), patient=patient, dose_order_id=3
    )
    draws.record_administration(by=nurse, draw_id=draw.pk, amount_mg=mg("38"), visit_id=12)
    with pytest.raises(InventoryDomainError) as too_much:
        draws.record_waste(
            by=nurse,
            draw_id=draw.pk,
            amount_mg=mg("12.001"),
            method=WasteMethod.DENATURING_CONTAINER,
            reason="",
            witness=trusted(clinician),
        )
    assert too_much.value.code == InventoryError.EXCEEDS_DRAWN
    waste = draws.record_waste(
        by=nurse,
        draw_id=draw.pk,
        amount_mg=mg("12"),
        method=WasteMethod.DENATURING_CONTAINER,
        reason="",
        witness=trusted(clinician),
    )
    vial.refresh_from_db()
    assert vial.balance_mg == Decimal("450.000")
    assert (waste.balance_change_mg, waste.witness_id, waste.draw_id) == (
        Decimal("0.000"),
        clinician.pk,
        draw.pk,
    )
    result, discrepancy = draws.reconcile_dose_order(by=nurse, clinic=clinic, dose_order_id=3)
    assert (result.drawn_mg, result.given_mg, result.wasted_mg, result.gap_mg) == (
        Decimal("50.000"),
        Decimal("38.000"),
        Decimal("12.000"),
        Decimal("0.000"),
    )
    assert discrepancy is None


def test_a_gap_in_an_order_opens_one_discrepancy(nurse, vial, patient, clinic) -> None:
    draw = draws.draw_from_vial(
        by=nurse, vial_id=vial.pk, amount_mg=mg("40"), patient=patient, dose_order_id=4
    )
    draws.record_administration(by=nurse, draw_id=draw.pk, amount_mg=mg("30"))
    result, discrepancy = draws.reconcile_dose_order(by=nurse, clinic=clinic, dose_order_id=4)
    _again, same = draws.reconcile_dose_order(by=nurse, clinic=clinic, dose_order_id=4)
    assert result.gap_mg == Decimal("10.000")
    assert discrepancy is not None
    assert same == discrepancy
    assert (discrepancy.expected_mg, discrepancy.found_mg, discrepancy.source) == (
        Decimal("40.000"),
        Decimal("30.000"),
        "reconciliation",
    )
    assert Discrepancy.objects.count() == 1


def test_waste_needs_the_protocol_number_of_signers(nurse, clinician, vial, patient) -> None:
    from ketaclinic.protocols.models import ProtocolValue

    draw = draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("10"), patient=patient)
    current = (
        ProtocolValue.objects.filter(parameter__key="cs_waste_witness_count").order_by("-version").first()
    )
    ProtocolValue.objects.create(
        parameter=current.parameter,
        version=current.version + 1,
        value="3",
        source="test",
        verified=False,
        reason="three people",
        changed_by=clinician,
        changed_at=clock.now(),
    )
    with pytest.raises(InventoryDomainError) as refused:
        draws.record_waste(
            by=nurse,
            draw_id=draw.pk,
            amount_mg=mg("10"),
            method=WasteMethod.DENATURING_CONTAINER,
            reason="",
            witness=trusted(clinician),
        )
    assert refused.value.code == InventoryError.TOO_FEW_SIGNERS


def test_removal_takes_the_whole_vial_out_with_a_witness(custodian, nurse, vial) -> None:
    entry = stock.remove_vial(
        by=custodian,
        clinic=vial.clinic,
        vial_id=vial.pk,
        reason=RemovalReason.DAMAGED,
        method=WasteMethod.REVERSE_DISTRIBUTOR,
        note="cracked",
        witness=trusted(nurse),
    )
    vial.refresh_from_db()
    assert (entry.kind, entry.amount_mg, entry.balance_change_mg, entry.balance_after_mg) == (
        "removed",
        Decimal("500.000"),
        Decimal("-500.000"),
        Decimal("0.000"),
    )
    assert (vial.status, vial.balance_mg) == (VialStatus.REMOVED, Decimal("0.000"))
    assert entry.reason == "damaged: cracked"


def test_transfer_moves_vials_and_refuses_the_same_place(custodian, nurse, vial, clinic) -> None:
    cart = stock.add_location(by=custodian, clinic=clinic, name="Cart 1")
    (entry,) = stock.transfer_vials(
        by=custodian, clinic=clinic, vial_ids=[vial.pk], to_location=cart, witness=trusted(nurse)
    )
    vial.refresh_from_db()
    assert (entry.kind, entry.location_id, entry.to_location_id, vial.location_id) == (
        "transferred",
        entry.location_id,
        cart.pk,
        cart.pk,
    )
    with pytest.raises(InventoryDomainError) as same:
        stock.transfer_vials(
            by=custodian, clinic=clinic, vial_ids=[vial.pk], to_location=cart, witness=trusted(nurse)
        )
    assert same.value.code == InventoryError.SAME_LOCATION


def test_count_match_opens_nothing_and_mismatch_opens_a_discrepancy(nurse, custodian, vial, clinic) -> None:
    good = counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose=CountPurpose.END_OF_DAY,
        business_time=BusinessTime.CLOSE,
        counted_ml={vial.pk: Decimal("10")},
        witness=trusted(custodian),
    )
    assert good.lines.count() == 1
    assert Discrepancy.objects.count() == 0
    short = counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose=CountPurpose.SHIFT,
        business_time=BusinessTime.OPENING,
        counted_ml={vial.pk: Decimal("9.5")},
        witness=trusted(custodian),
    )
    discrepancy = Discrepancy.objects.get()
    assert discrepancy.count_line.count == short
    assert (discrepancy.expected_ml, discrepancy.found_ml, discrepancy.difference_mg) == (
        Decimal("10.000"),
        Decimal("9.500"),
        Decimal("-25.000"),
    )
    assert LedgerEntry.objects.filter(kind="counted").count() == 2


def test_count_must_cover_every_vial(nurse, custodian, custodian_vials_two) -> None:
    first, _second = custodian_vials_two
    with pytest.raises(InventoryDomainError) as missing:
        counts.record_count(
            by=nurse,
            clinic=first.clinic,
            location=None,
            purpose=CountPurpose.SHIFT,
            business_time=BusinessTime.OPENING,
            counted_ml={first.pk: Decimal(10)},
            witness=trusted(custodian),
        )
    assert missing.value.code == InventoryError.NOTHING_TO_COUNT


@pytest.fixture
def custodian_vials_two(custodian, clinician, clinic, safe):
    return list(receive(custodian, clinician, clinic, vials=2, where=safe).vials.order_by("pk"))


def test_custodian_resolves_a_loss_with_form_106_data_and_the_book_is_corrected(
    nurse, custodian, vial, clinic
) -> None:
    counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose=CountPurpose.SHIFT,
        business_time=BusinessTime.OPENING,
        counted_ml={vial.pk: Decimal("8")},
        witness=trusted(custodian),
    )
    discrepancy = Discrepancy.objects.get()
    with pytest.raises(PermissionDenied):
        counts.resolve_discrepancy(
            by=nurse, discrepancy=discrepancy, kind=ResolutionKind.MINOR_VARIANCE, reason="x"
        )
    with pytest.raises(InventoryDomainError) as no_type:
        counts.resolve_discrepancy(
            by=custodian, discrepancy=discrepancy, kind=ResolutionKind.THEFT_OR_LOSS, reason="missing"
        )
    assert no_type.value.field == "loss_type"
    resolution = counts.resolve_discrepancy(
        by=custodian,
        discrepancy=discrepancy,
        kind=ResolutionKind.THEFT_OR_LOSS,
        reason="2 mL missing from safe",
        loss_type=LossType.UNEXPLAINED,
        police_notified=True,
        police_department="Burlington PD",
        police_report_number="24-118",
    )
    vial.refresh_from_db()
    assert (vial.balance_ml, vial.balance_mg) == (Decimal("8.000"), Decimal("400.000"))
    assert resolution.adjustment is not None
    assert (resolution.adjustment.kind, resolution.adjustment.balance_change_mg) == (
        "adjusted",
        Decimal("-100.000"),
    )
    with pytest.raises(InventoryDomainError) as twice:
        counts.resolve_discrepancy(
            by=custodian, discrepancy=discrepancy, kind=ResolutionKind.MINOR_VARIANCE, reason="x"
        )
    assert twice.value.code == InventoryError.ALREADY_RESOLVED


def test_every_write_keeps_the_chain_verifiable(nurse, custodian, clinician, vial, patient, clinic) -> None:
    draw = draws.draw_from_vial(
        by=nurse, vial_id=vial.pk, amount_mg=mg("40"), patient=patient, dose_order_id=1
    )
    draws.record_administration(by=nurse, draw_id=draw.pk, amount_mg=mg("35"))
    draws.record_waste(
        by=nurse,
        draw_id=draw.pk,
        amount_mg=mg("5"),
        method=WasteMethod.DENATURING_CONTAINER,
        reason="",
        witness=trusted(clinician),
    )
    counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose=CountPurpose.SHIFT,
        business_time=BusinessTime.CLOSE,
        counted_ml={vial.pk: Decimal("9")},
        witness=trusted(custodian),
    )
    counts.resolve_discrepancy(
        by=custodian,
        discrepancy=Discrepancy.objects.get(),
        kind=ResolutionKind.MINOR_VARIANCE,
        reason="spill",
    )
    report, check = chain.verify_ledger()
    assert (report.intact, report.entries_checked) == (True, 6)
    assert (check.intact, check.entries_checked, check.problem) == (True, 6, "")


# The witness signs in on the same form.


def _credentials(user, password=TEST_PASSWORD, otp_token=""):
    return WitnessCredentials(username=user.username, password=password, otp_token=otp_token)


def test_witness_with_the_right_password_signs(nurse, custodian, clinic) -> None:
    signature = signed(nurse, custodian, clinic)
    assert signature.user == nurse


def test_wrong_witness_password_is_refused_audited_and_counted_by_axes(nurse, custodian, clinic) -> None:
    request = RequestFactory().post("/inventory/")
    with pytest.raises(WitnessRefused) as refused:
        witness.verify_witness(
            by=custodian, clinic=clinic, credentials=_credentials(nurse, "wrong"), request=request
        )
    assert (refused.value.code, refused.value.field) == (InventoryError.WITNESS_INVALID, "witness_password")
    assert AccessAttempt.objects.get(username="nurse").failures_since_start == 1
    event = AuditEvent.objects.get(object_type="witness_signature")
    assert (event.action, event.actor_id) == ("sign_in_failed", custodian.pk)


def test_locked_out_witness_is_refused_without_locking_the_person_acting(nurse, custodian, clinic) -> None:
    for _ in range(5):
        with pytest.raises(WitnessRefused):
            witness.verify_witness(
                by=custodian,
                clinic=clinic,
                credentials=_credentials(nurse, "wrong"),
                request=RequestFactory().post("/"),
            )
    request = RequestFactory().post("/")
    with pytest.raises(WitnessRefused) as refused:
        witness.verify_witness(by=custodian, clinic=clinic, credentials=_credentials(nurse), request=request)
    assert refused.value.code == InventoryError.WITNESS_LOCKED_OUT
    assert getattr(request, "axes_locked_out", False) is False


def test_witness_cannot_be_the_person_acting(nurse, clinic) -> None:
    with pytest.raises(WitnessRefused) as refused:
        signed(nurse, nurse, clinic)
    assert refused.value.code == InventoryError.WITNESS_SAME_PERSON


def test_witness_needs_the_witness_permission_and_the_clinic(front_desk, outsider, nurse, clinic) -> None:
    for person in (front_desk, outsider):
        with pytest.raises(WitnessRefused) as refused:
            signed(person, nurse, clinic)
        assert refused.value.code == InventoryError.WITNESS_NOT_ALLOWED


def test_witness_with_an_authenticator_must_give_its_code(clinician, nurse, clinic) -> None:
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    with pytest.raises(WitnessRefused) as no_code:
        signed(clinician, nurse, clinic)
    assert (no_code.value.code, no_code.value.field) == (InventoryError.WITNESS_SECOND_FACTOR, "witness_otp")
    with pytest.raises(WitnessRefused):
        signed(clinician, nurse, clinic, otp_token="000000" if totp(device.bin_key) != 0 else "111111")
    signature = signed(clinician, nurse, clinic, otp_token=f"{totp(device.bin_key):06d}")
    assert signature.user == clinician


def test_role_requiring_a_second_factor_without_a_device_cannot_witness(clinician, nurse, clinic) -> None:
    with pytest.raises(WitnessRefused) as refused:
        signed(clinician, nurse, clinic, otp_token="123456")
    assert refused.value.code == InventoryError.WITNESS_SECOND_FACTOR


def test_standard_ketamine_products_follow_the_protocols_vial_strengths(clinic) -> None:
    from ketaclinic.inventory.services.stock import standard_products

    ketamine = [p for p in standard_products() if p.substance == "ketamine"]
    assert [(p.concentration_mg_per_ml, p.vial_volume_ml, p.ndc) for p in ketamine] == [
        (Decimal(10), Decimal(20), "00000-0010-20"),
        (Decimal(50), Decimal(10), "00000-0050-10"),
        (Decimal(100), Decimal(5), "00000-0100-05"),
    ]


def test_a_ketamine_strength_outside_the_protocol_is_refused_and_nothing_is_written(
    clinic, custodian
) -> None:
    from ketaclinic.inventory.models import DrugProduct, Schedule
    from ketaclinic.inventory.services.stock import add_product

    before = DrugProduct.objects.count()
    with pytest.raises(InventoryDomainError) as refused:
        add_product(
            by=custodian,
            clinic=clinic,
            name="Ketamine HCl injection",
            substance="Ketamine",
            schedule=Schedule.III,
            ndc="00000-0025-10",
            concentration_mg_per_ml=Decimal(25),
            vial_volume_ml=Decimal(10),
        )
    assert (refused.value.code, refused.value.field) == (
        "strength_not_in_protocol",
        "concentration_mg_per_ml",
    )
    assert DrugProduct.objects.count() == before
