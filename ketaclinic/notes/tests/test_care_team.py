"""The care team: a clinician adds a therapist (who then sees the patient) and ends the assignment with a
reason (append-only end row, ended_at set once; the therapist no longer sees the patient)."""

from typing import Any

import pytest
from django.db import DatabaseError, transaction

from conftest import make_user, signed_in_client, verified_client
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.notes.models import CareTeamEnd
from ketaclinic.notes.services import care_team as services
from ketaclinic.patients.models import CareTeamMember
from ketaclinic.patients.selectors import patient_for
from ketaclinic.patients.tests.factories import register_adult

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(clinic: Any) -> Any:
    return make_user(Role.THERAPIST, clinic, "therapist2")


@pytest.fixture
def plain_patient(front_desk: Any, clinic: Any) -> Any:
    return register_adult(front_desk, clinic, legal_given_name="Ivo", legal_family_name="Brandt")


def test_added_then_ended_the_therapist_sees_then_no_longer_sees(
    clinician: Any, newcomer: Any, plain_patient: Any
) -> None:
    with pytest.raises(NotFound):
        patient_for(viewer=newcomer, patient_id=plain_patient.pk)
    row = services.add_to_care_team(
        by=clinician, patient=plain_patient, member=newcomer, responsibility="KAP therapist"
    )
    assert patient_for(viewer=newcomer, patient_id=plain_patient.pk) == plain_patient
    with pytest.raises(DomainError) as twice:
        services.add_to_care_team(by=clinician, patient=plain_patient, member=newcomer)
    assert twice.value.code == "already_on_care_team"
    with pytest.raises(DomainError) as no_reason:
        services.end_care_team_assignment(by=clinician, assignment=row, reason="  ")
    assert no_reason.value.code == "reason_required"
    end = services.end_care_team_assignment(by=clinician, assignment=row, reason="Therapy completed.")
    row.refresh_from_db()
    assert (end.ended_by, end.reason, row.ended_at) == (clinician, "Therapy completed.", end.ended_at)
    with pytest.raises(NotFound):
        patient_for(viewer=newcomer, patient_id=plain_patient.pk)
    with pytest.raises(DomainError) as again:
        services.end_care_team_assignment(by=clinician, assignment=row, reason="Again.")
    assert again.value.code == "care_team_assignment_ended"
    assert AuditEvent.objects.filter(
        object_type="care_team_member", summary__contains="left the care team"
    ).exists()
    # Joining again is a new assignment; the ended one stays.
    services.add_to_care_team(by=clinician, patient=plain_patient, member=newcomer)
    assert CareTeamMember.objects.filter(patient=plain_patient, member=newcomer).count() == 2


def test_who_may_manage_and_whom(
    clinician: Any, therapist: Any, front_desk: Any, billing_clerk: Any, newcomer: Any, plain_patient: Any
) -> None:
    for person in (therapist, front_desk):
        with pytest.raises(PermissionDenied):
            services.add_to_care_team(by=person, patient=plain_patient, member=newcomer)
    with pytest.raises(DomainError) as clerk:
        services.add_to_care_team(by=clinician, patient=plain_patient, member=billing_clerk)
    assert clerk.value.code == "care_team_member_invalid"
    assert CareTeamMember.objects.filter(patient=plain_patient).count() == 0


def test_an_end_row_is_append_only(clinician: Any, newcomer: Any, plain_patient: Any) -> None:
    row = services.add_to_care_team(by=clinician, patient=plain_patient, member=newcomer)
    end = services.end_care_team_assignment(by=clinician, assignment=row, reason="Moved away.")
    for attempt in (
        lambda: CareTeamEnd.objects.filter(pk=end.pk).update(reason="Edited"),
        lambda: CareTeamEnd.objects.filter(pk=end.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()


def test_the_page_lists_adds_and_ends_with_errors_re_rendered(
    clinician: Any, newcomer: Any, plain_patient: Any
) -> None:
    client = signed_in_client(clinician)
    url = f"/notes/patients/{plain_patient.pk}/care-team/"
    page = client.get(url).content.decode()
    assert "Nobody is on the care team." in page
    assert newcomer.get_full_name() in page
    assert client.post(url, {"member": newcomer.pk, "responsibility": "KAP therapist"}).status_code == 302
    bad = client.post(url, {"member": "999999"})
    assert bad.status_code == 422
    assert "Select a valid choice" in bad.content.decode()
    row = CareTeamMember.objects.get(patient=plain_patient, member=newcomer)
    empty = client.post(f"/notes/care-team/{row.pk}/end/", {"reason": ""})
    assert empty.status_code == 422
    assert "This field is required" in empty.content.decode()
    assert client.post(f"/notes/care-team/{row.pk}/end/", {"reason": "Completed."}).status_code == 302
    page = client.get(url).content.decode()
    assert "Ended assignments" in page
    assert "Completed." in page
    assert "Care team members" in client.get(f"/patients/{plain_patient.pk}/").content.decode()


def test_the_api_adds_lists_and_ends(clinician: Any, newcomer: Any, plain_patient: Any) -> None:
    client = verified_client(clinician)
    base = f"/api/notes/patients/{plain_patient.pk}/care-team"
    added = client.post(base, {"member_id": newcomer.pk}, content_type="application/json")
    assert added.status_code == 201
    assignment = added.json()["id"]
    ended = client.post(
        f"/api/notes/care-team/{assignment}/end", {"reason": "Completed."}, content_type="application/json"
    )
    assert ended.status_code == 200
    assert ended.json()["end_reason"] == "Completed."
    listed = client.get(base).json()
    assert [(row["member_id"], row["ended_by_id"]) for row in listed] == [(newcomer.pk, clinician.pk)]
    refused = client.post(
        f"/api/notes/care-team/{assignment}/end", {"reason": "Again."}, content_type="application/json"
    )
    assert refused.status_code == 409
