"""Sample messages in: the stored raw message, the rows written, and the acknowledgement out."""

from typing import Any

import pytest
from django.db import DatabaseError, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.infusions.models import ReadingSource, VitalSignReading
from ketaclinic.interop.hl7 import services, wire
from ketaclinic.interop.hl7.errors import Hl7Error
from ketaclinic.interop.hl7.models import InboundMessage, InboundProcessing, Outcome
from ketaclinic.interop.hl7.tests.helpers import DEVICE, sample

pytestmark = pytest.mark.django_db


def ack_of(raw: bytes) -> wire.Ack:
    return wire.read_ack(services.receive(raw=raw, peer="127.0.0.1:5000").ack)


def test_mdc_vitals_become_a_device_reading_of_the_chairs_visit(visit: Any) -> None:
    raw = sample("oru_r01_mdc.hl7", control="MDC-1")
    answer = services.receive(raw=raw, peer="127.0.0.1:5000")
    assert wire.read_ack(answer.ack) == wire.Ack("AA", "MDC-1", "")
    stored = InboundMessage.objects.get()
    assert bytes(stored.raw) == raw
    assert (stored.sending_application, stored.control_id, stored.message_type, stored.peer) == (
        "BEDSIDE-GW",
        "MDC-1",
        "ORU^R01",
        "127.0.0.1:5000",
    )
    reading = VitalSignReading.objects.get(visit=visit)
    assert (
        reading.systolic_mmhg,
        reading.diastolic_mmhg,
        reading.heart_rate_bpm,
        reading.spo2_percent,
        reading.respiratory_rate_per_min,
    ) == (128, 79, 71, 97, 15)
    assert (reading.source, reading.device_id, reading.recorded_by) == (ReadingSource.DEVICE, DEVICE, None)
    processing = InboundProcessing.objects.get()
    assert (processing.outcome, processing.ack_code, processing.reading, processing.visit) == (
        Outcome.APPLIED,
        "AA",
        reading,
        visit,
    )
    assert processing.notes == ["MDC_TEMP: not a vital sign we chart"]
    # The vital-signs service audited the reading as a device's; the interface audited its processing.
    assert AuditEvent.objects.filter(object_type="infusion_vital_signs", actor=None).count() == 1
    assert AuditEvent.objects.filter(object_type="hl7_processing", object_id=str(processing.pk)).count() == 1


def test_loinc_pressures_in_kilopascal_are_converted_to_mmhg(visit: Any) -> None:
    assert ack_of(sample("oru_r01_loinc_kpa.hl7")).code == "AA"
    reading = VitalSignReading.objects.get(visit=visit)
    assert (reading.systolic_mmhg, reading.diastolic_mmhg, reading.heart_rate_bpm, reading.spo2_percent) == (
        130,
        80,
        88,
        95,
    )


def test_a_resend_is_acknowledged_and_not_applied_twice(visit: Any) -> None:
    raw = sample("oru_r01_mdc.hl7", control="DUP-1")
    assert ack_of(raw).code == "AA"
    again = services.receive(raw=raw)
    assert again.duplicate is True
    assert wire.read_ack(again.ack) == wire.Ack("AA", "DUP-1", "")
    assert InboundMessage.objects.count() == 1
    assert InboundProcessing.objects.count() == 1
    assert VitalSignReading.objects.filter(visit=visit).count() == 1


def test_an_unknown_unit_is_stored_and_queued_with_an_error_ack(visit: Any) -> None:
    raw = sample("oru_r01_unknown_unit.hl7", control="UNIT-1")
    ack = services.receive(raw=raw).ack
    assert wire.read_ack(ack) == wire.Ack(
        "AE", "UNIT-1", "Systolic blood pressure: unit [in_i] is not one we read"
    )
    assert (
        b"\rERR|||102^Data type error^HL70357|E||||Systolic blood pressure: unit [in_i] is not one we read"
        in ack
    )
    assert VitalSignReading.objects.count() == 0
    processing = InboundProcessing.objects.get()
    assert (processing.outcome, processing.error_code) == (Outcome.QUEUED, "bad_value")
    assert bytes(InboundMessage.objects.get().raw) == raw


def test_a_reading_for_a_chair_without_a_visit_is_stored_and_queued(mapping: Any) -> None:
    ack = ack_of(sample("oru_r01_mdc.hl7", control="NOVISIT-1"))
    assert ack == wire.Ack("AE", "NOVISIT-1", "Chair 1 has no open infusion visit.")
    processing = InboundProcessing.objects.get()
    assert (processing.outcome, processing.error_code, processing.clinic_id) == (
        Outcome.QUEUED,
        "no_active_visit",
        mapping.clinic_id,
    )


def test_an_unmapped_device_is_queued(visit: Any) -> None:
    ack = ack_of(sample("oru_r01_mdc.hl7", device="MON-ELSEWHERE"))
    assert ack.code == "AE"
    assert ack.text == "No chair is mapped to device MON-ELSEWHERE: map it on the interfaces page."
    assert VitalSignReading.objects.count() == 0


def test_an_unaccepted_message_type_is_rejected_with_ar() -> None:
    raw = sample("orm_o01_unsupported.hl7", control="ORM-1")
    ack = services.receive(raw=raw).ack
    assert wire.read_ack(ack).code == "AR"
    assert b"ERR|||200^Unsupported message type^HL70357|E" in ack
    assert InboundProcessing.objects.get().outcome == Outcome.REJECTED
    assert bytes(InboundMessage.objects.get().raw) == raw


@pytest.mark.parametrize(
    ("name", "code", "text"),
    [
        ("not_hl7.txt", "not_hl7", "The message does not start with an MSH segment."),
        ("oru_r01_no_control_id.hl7", "missing_field", "MSH-10 (message control id) is empty."),
    ],
)
def test_a_malformed_message_is_stored_rejected_and_answered_ae(name: str, code: str, text: str) -> None:
    raw = sample(name)
    ack = wire.read_ack(services.receive(raw=raw).ack)
    assert (ack.code, ack.text) == ("AE", text[:80])
    processing = InboundProcessing.objects.get()
    assert (processing.outcome, processing.error_code, processing.reason) == (Outcome.REJECTED, code, text)
    assert bytes(InboundMessage.objects.get().raw) == raw


def test_registration_is_matched_by_record_number_and_updates_the_name(visit: Any) -> None:
    patient = visit.patient
    born = patient.date_of_birth.strftime("%Y%m%d")
    raw = sample(
        "adt_a04.hl7", record_number=patient.record_number, family="Other", given="Name", birth_date=born
    )
    assert ack_of(raw).code == "AA"
    assert InboundProcessing.objects.get().patient == patient
    patient.refresh_from_db()
    assert (patient.legal_family_name, patient.legal_given_name) == ("Other", "Name")


def _a08(patient: Any, **values: Any) -> bytes:
    fields = {
        "record_number": patient.record_number,
        "family": patient.legal_family_name,
        "given": patient.legal_given_name,
        "middle": "",
        "birth_date": patient.date_of_birth.strftime("%Y%m%d"),
        "sex": "",
        "street": "",
        "city": "",
        "region": "",
        "postal": "",
        "phone": "",
    }
    return sample("adt_a08.hl7", **(fields | values))


def test_an_a08_updates_the_matched_patients_demographics_through_the_patients_service(visit: Any) -> None:
    patient = visit.patient
    raw = _a08(
        patient,
        middle="Jo",
        birth_date="19800214",
        sex="F",
        street="12 Harbour Road",
        city="Portland",
        region="OR",
        postal="97201",
        phone="(503) 555-0147",
    )
    assert ack_of(raw) == wire.Ack("AA", "CTRL-1", "")
    patient.refresh_from_db()
    assert (
        patient.legal_middle_name,
        patient.date_of_birth.isoformat(),
        patient.sex_assigned_at_birth,
        patient.address_line,
        patient.city,
        patient.region,
        patient.postal_code,
        patient.phone,
    ) == ("Jo", "1980-02-14", "female", "12 Harbour Road", "Portland", "OR", "97201", "(503) 555-0147")
    processing = InboundProcessing.objects.get()
    assert (processing.outcome, processing.patient) == (Outcome.APPLIED, patient)
    assert processing.notes[0] == f"Matched to {patient.record_number}"
    assert processing.notes[-1].startswith("Changed: legal_middle_name, date_of_birth")
    # Audited as the sending system's change (no person), and kept in the chart's history.
    change = AuditEvent.objects.get(object_type="patient", action="update", patient_id=patient.pk)
    assert change.actor is None
    assert change.summary.startswith("changed by HL7 ADT^A08 from REFERRING-EHR: legal_middle_name")
    newest = patient.history.order_by("-history_id").first()
    assert (newest.history_user, newest.history_change_reason) == (
        None,
        "changed by HL7 ADT^A08 from REFERRING-EHR",
    )


def test_an_a08_leaves_empty_fields_alone_and_deletes_on_hl7_null(visit: Any) -> None:
    patient = visit.patient
    ack_of(_a08(patient, phone="555-0100", city="Salem", control="A08-1"))
    ack_of(_a08(patient, phone='""', control="A08-2"))
    patient.refresh_from_db()
    assert (patient.phone, patient.city) == ("", "Salem")


def test_an_a08_the_patients_service_refuses_waits_for_review_and_changes_nothing(visit: Any) -> None:
    patient = visit.patient
    before = (patient.date_of_birth, patient.legal_middle_name)
    # Born last year: the clinic's protocol does not treat patients that young.
    answer = ack_of(_a08(patient, middle="Changed", birth_date=f"{visit.opened_at.year - 1}0101"))
    assert answer.code == "AE"
    processing = InboundProcessing.objects.get()
    assert (processing.outcome, processing.error_code, processing.patient) == (
        Outcome.QUEUED,
        "demographics_refused",
        patient,
    )
    patient.refresh_from_db()
    assert (patient.date_of_birth, patient.legal_middle_name) == before


def test_an_a08_with_a_birth_date_that_is_no_date_is_refused(visit: Any) -> None:
    answer = ack_of(_a08(visit.patient, birth_date="19801399"))
    assert (answer.code, answer.text) == ("AE", "PID-7 (birth date) '19801399' is not a date.")
    # The record number still matched: the message waits for review at the patient's clinic.
    assert InboundProcessing.objects.get().error_code == "bad_value"


def test_an_unmatched_a08_waits_for_review_and_changes_no_patient(visit: Any) -> None:
    raw = _a08(visit.patient, record_number="EXT-404", family="Nobody", given="Known", city="Elsewhere")
    assert ack_of(raw).code == "AE"
    assert InboundProcessing.objects.get().outcome == Outcome.QUEUED
    visit.patient.refresh_from_db()
    assert visit.patient.city != "Elsewhere"


def test_the_a08_fixture_has_the_structure_hl7apy_expects(visit: Any) -> None:
    from hl7apy.parser import parse_message

    raw = _a08(visit.patient, middle="Jo", sex="F", street="12 Harbour Road", city="Portland", phone="555")
    message = parse_message(wire.decode(raw).replace("2.5.1", "2.5"), find_groups=True)
    assert message.msh.msh_9.to_er7() == "ADT^A08^ADT_A01"
    assert message.pid.pid_11.xad_3.value == "Portland"
    parsed = wire.parse(raw)
    assert isinstance(parsed, wire.Parsed)
    assert parsed.patient is not None
    assert (parsed.patient.city, parsed.patient.phone, parsed.patient.middle_name) == (
        "Portland",
        "555",
        "Jo",
    )


def test_registration_is_matched_by_name_and_birth_date(visit: Any) -> None:
    patient = visit.patient
    raw = sample(
        "adt_a04.hl7",
        record_number="EXT-9",
        family=patient.legal_family_name.upper(),
        given=patient.legal_given_name,
        birth_date=patient.date_of_birth.strftime("%Y%m%d"),
    )
    assert ack_of(raw).code == "AA"
    assert InboundProcessing.objects.get().patient == patient


def test_an_unmatched_registration_waits_for_review(visit: Any) -> None:
    raw = sample("adt_a04.hl7", record_number="EXT-9", family="Nobody", given="Known", birth_date="19700101")
    assert ack_of(raw) == wire.Ack(
        "AE", "CTRL-1", "No patient matches the identifier, or the name and birth date."
    )
    assert InboundProcessing.objects.get().outcome == Outcome.QUEUED


def test_reprocessing_after_mapping_applies_once_in_a_new_row(clinic_admin: Any, visit: Any) -> None:
    ack_of(sample("oru_r01_mdc.hl7", device="MON-NEW"))
    message = InboundMessage.objects.get()
    services.map_device(by=clinic_admin, clinic=visit.clinic, device_id="MON-NEW", chair=visit.chair)
    processing = services.reprocess(by=clinic_admin, message=message)
    assert (processing.outcome, processing.processed_by) == (Outcome.APPLIED, clinic_admin)
    assert list(InboundProcessing.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "queued",
        "applied",
    ]
    assert VitalSignReading.objects.filter(visit=visit).count() == 1
    with pytest.raises(Hl7Error) as refused:
        services.reprocess(by=clinic_admin, message=message)
    assert refused.value.code == "already_applied"
    assert VitalSignReading.objects.filter(visit=visit).count() == 1


def test_reprocess_needs_manage_interfaces(nurse: Any, visit: Any) -> None:
    ack_of(sample("oru_r01_mdc.hl7", device="MON-NEW"))
    with pytest.raises(PermissionDenied):
        services.reprocess(by=nurse, message=InboundMessage.objects.get())
    assert InboundProcessing.objects.count() == 1


def test_the_stored_messages_and_processings_are_append_only(visit: Any) -> None:
    ack_of(sample("oru_r01_mdc.hl7"))
    with pytest.raises(DatabaseError), transaction.atomic():
        InboundMessage.objects.all().update(peer="elsewhere")
    with pytest.raises(DatabaseError), transaction.atomic():
        InboundProcessing.objects.all().update(reason="changed")
    for model in (InboundProcessing, InboundMessage):
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.all().delete()
    assert InboundMessage.objects.get().peer == "127.0.0.1:5000"
