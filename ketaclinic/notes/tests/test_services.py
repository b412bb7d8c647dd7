from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.notes.models import Note, NoteAddendum, NoteCosignature, NoteRelease
from ketaclinic.notes.rules import Channel
from ketaclinic.notes.selectors import notes as selectors
from ketaclinic.notes.selectors.timeline import patient_timeline
from ketaclinic.notes.services import notes as services
from ketaclinic.notes.tests.conftest import DAY, integration_content, signed_note, template
from ketaclinic.patients.selectors import patients_for
from ketaclinic.patients.tests.factories import register_adult

pytestmark = pytest.mark.django_db


def test_therapist_sees_only_their_caseload(
    therapist: Any, patient: Any, front_desk: Any, clinic: Any
) -> None:
    other = register_adult(front_desk, clinic, legal_given_name="Other", legal_family_name="Person")
    assert list(patients_for(viewer=therapist)) == [patient]
    with pytest.raises(NotFound):
        services.create_note(
            by=therapist,
            patient=other,
            template=template("dap"),
            encounter_kind="psychotherapy_session",
            encounter_on=DAY,
        )
    assert Note.objects.count() == 0


def test_draft_saves_then_signing_locks(therapist: Any, patient: Any) -> None:
    note = signed_note(therapist, patient)
    assert note.themes == "grief, sleep"
    assert note.search_text.startswith("Experience recalled: Felt held; saw her mother's kitchen.\n")
    with pytest.raises(DomainError) as refused:
        services.save_draft(by=therapist, note=note, content=integration_content(themes="changed"))
    assert refused.value.code == "note_signed"
    assert Note.objects.get(pk=note.pk).themes == "grief, sleep"


def test_signing_refuses_an_incomplete_note(therapist: Any, patient: Any) -> None:
    note = services.create_note(
        by=therapist,
        patient=patient,
        template=template("kap-integration"),
        encounter_kind="psychotherapy_session",
        encounter_on=DAY,
    )
    services.save_draft(by=therapist, note=note, content=integration_content(risk_level="not_assessed"))
    with pytest.raises(DomainError) as refused:
        services.sign_note(by=therapist, note=note)
    assert refused.value.code == "note_incomplete"
    assert refused.value.field == "risk_level"
    assert Note.objects.get(pk=note.pk).signed_at is None


def test_database_refuses_update_and_delete_of_a_signed_note(therapist: Any, patient: Any) -> None:
    note = signed_note(therapist, patient)
    with pytest.raises(DatabaseError), transaction.atomic():
        Note.objects.filter(pk=note.pk).update(themes="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        Note.objects.filter(pk=note.pk).delete()
    assert Note.objects.get(pk=note.pk).themes == "grief, sleep"


def test_database_refuses_changing_an_addendum(therapist: Any, patient: Any) -> None:
    note = signed_note(therapist, patient)
    row = services.add_addendum(by=therapist, note=note, text="Called back.")
    with pytest.raises(DatabaseError), transaction.atomic():
        NoteAddendum.objects.filter(pk=row.pk).update(text="edited")
    assert NoteAddendum.objects.get(pk=row.pk).text == "Called back."


def test_a_draft_stays_editable_in_the_database(therapist: Any, patient: Any) -> None:
    note = services.create_note(
        by=therapist, patient=patient, template=template("dap"), encounter_kind="phone_call", encounter_on=DAY
    )
    assert Note.objects.filter(pk=note.pk).update(themes="draft") == 1


def test_addendum_records_who_and_when(therapist: Any, clinician: Any, patient: Any) -> None:
    note = signed_note(therapist, patient)
    row = services.add_addendum(by=clinician, note=note, text="  Seen in clinic.  ")
    assert (row.author, row.text) == (clinician, "Seen in clinic.")
    assert AuditEvent.objects.filter(object_type="note_addendum", object_id=str(row.pk)).count() == 1


def test_cosignature_only_by_the_named_supervisor(
    therapist: Any, clinician: Any, nurse: Any, patient: Any
) -> None:
    note = services.create_note(
        by=therapist,
        patient=patient,
        template=template("kap-integration"),
        encounter_kind="psychotherapy_session",
        encounter_on=DAY,
    )
    services.save_draft(by=therapist, note=note, content=integration_content())
    note = services.sign_note(by=therapist, note=note, cosigner=clinician)
    with pytest.raises(PermissionDenied):
        services.cosign_note(by=nurse, note=note)
    row = services.cosign_note(by=clinician, note=note)
    assert row.cosigned_by == clinician
    with pytest.raises(DomainError):
        services.cosign_note(by=clinician, note=note)
    assert NoteCosignature.objects.count() == 1


def test_psychotherapy_note_is_kept_apart_until_released(
    therapist: Any, clinician: Any, patient: Any
) -> None:
    private = signed_note(therapist, patient, kind="psychotherapy")
    progress = signed_note(therapist, patient)
    # The author: in the chart, not through the API.
    assert {n.pk for n in selectors.patient_notes(viewer=therapist, patient=patient)} == {
        private.pk,
        progress.pk,
    }
    api_rows = selectors.patient_notes(viewer=therapist, patient=patient, channel=Channel.API)
    assert [n.pk for n in api_rows] == [progress.pk]
    # Another clinician: neither in the chart, the API nor the search.
    assert [n.pk for n in selectors.patient_notes(viewer=clinician, patient=patient)] == [progress.pk]
    with pytest.raises(NotFound):
        selectors.note_for(viewer=clinician, note_id=private.pk)
    assert selectors.search_notes(viewer=clinician, query="kitchen") == [progress]
    with pytest.raises(DomainError):
        services.add_addendum(by=clinician, note=private, text="x")
    with pytest.raises(DomainError):
        services.release_psychotherapy_note(by=clinician, note=private, reason="wanted")
    services.release_psychotherapy_note(by=therapist, note=private, reason="For the series summary.")
    assert NoteRelease.objects.get().note == private
    assert selectors.note_for(viewer=clinician, note_id=private.pk, channel=Channel.API) == private


def test_search_finds_every_word_among_readable_notes(therapist: Any, nurse: Any, patient: Any) -> None:
    note = signed_note(therapist, patient)
    assert selectors.search_notes(viewer=nurse, query="GRIEF kitchen") == [note]
    assert selectors.search_notes(viewer=nurse, query="grief piano") == []
    assert AuditEvent.objects.filter(object_type="note_search", patient_id=patient.pk).count() == 1


def test_front_desk_cannot_read_or_write_notes(front_desk: Any, patient: Any) -> None:
    with pytest.raises(PermissionDenied):
        selectors.visible_notes(viewer=front_desk)
    with pytest.raises(PermissionDenied):
        services.create_note(
            by=front_desk,
            patient=patient,
            template=template("soap"),
            encounter_kind="follow_up",
            encounter_on=DAY,
        )


def test_nurse_cannot_write_a_psychotherapy_note(nurse: Any, patient: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.create_note(
            by=nurse,
            patient=patient,
            template=template("dap"),
            encounter_kind="follow_up",
            encounter_on=DAY,
            kind="psychotherapy",
        )
    assert Note.objects.count() == 0


def test_timeline_query_count_does_not_grow_with_history(
    clinician: Any, therapist: Any, patient: Any
) -> None:
    signed_note(therapist, patient)
    with CaptureQueriesContext(connection) as few:
        first = patient_timeline(viewer=clinician, patient=patient)
    for _ in range(5):
        signed_note(therapist, patient)
    with CaptureQueriesContext(connection) as many:
        later = patient_timeline(viewer=clinician, patient=patient)
    assert (len(first.entries), len(later.entries)) == (1, 6)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_timeline_filters_by_kind(clinician: Any, therapist: Any, patient: Any) -> None:
    signed_note(therapist, patient)
    page = patient_timeline(viewer=clinician, patient=patient, only=["scale"])
    assert page.entries == []
    assert ("note", "Notes", False) in page.kinds
