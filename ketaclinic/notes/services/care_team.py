"""The patient's care team: a clinician adds a therapist or clinician (patients' `assign_care_team_member`)
and ends an assignment with a reason. Ending is append-only: a CareTeamEnd row with who, when and why, and
the assignment's `ended_at` set once; a therapist whose assignment ended no longer sees the patient."""

from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import Actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.inputs import clean_reason
from ketaclinic.notes.errors import NoteConflict, NoteError, NoteErrorCode
from ketaclinic.notes.models import CareTeamEnd
from ketaclinic.patients.models import CareTeamMember, Patient
from ketaclinic.patients.selectors import patients_for
from ketaclinic.patients.services import assign_care_team_member


def _check_patient(by: Actor, patient: Patient) -> None:
    require(by, Perm.MANAGE_CARE_TEAM)
    if not patients_for(viewer=by).filter(pk=patient.pk).exists():
        raise NotFound("No such patient in your clinics.")


@transaction.atomic
def add_to_care_team(*, by: Actor, patient: Patient, member: Any, responsibility: str = "") -> CareTeamMember:
    """Put `member` (active clinical staff of the patient's clinic) on the care team; refused when they are
    on it already. Audited by the patients service."""
    _check_patient(by, patient)
    if member is not None and not can(member, Perm.VIEW_NOTES):
        # The care team treats the patient: clinicians, nurses and therapists, not the billing office.
        raise NoteError(
            NoteErrorCode.CARE_TEAM_MEMBER_INVALID,
            "Only clinical staff (clinicians, nurses, therapists) join a care team.",
            field="member",
        )
    if (
        member is not None
        and CareTeamMember.objects.filter(patient=patient, member=member, ended_at__isnull=True).exists()
    ):
        raise NoteConflict(
            NoteErrorCode.ALREADY_ON_CARE_TEAM,
            f"{member.get_full_name() or 'That person'} is on the care team already.",
            field="member",
        )
    return assign_care_team_member(by=by, patient=patient, member=member, responsibility=responsibility)


@transaction.atomic
def end_care_team_assignment(*, by: Actor, assignment: CareTeamMember, reason: str) -> CareTeamEnd:
    """End a current assignment with a reason: an append-only end row and `ended_at` set once."""
    _check_patient(by, assignment.patient)
    why = clean_reason(reason, what="Say why the assignment ends.")
    now = clock.now()
    updated = CareTeamMember.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(ended_at=now)
    if not updated:
        raise NoteConflict(NoteErrorCode.CARE_TEAM_ENDED, "That assignment has ended already.")
    row = CareTeamEnd.objects.create(assignment=assignment, ended_by=by, ended_at=now, reason=why)
    record_patient_change(
        by=by,
        patient=assignment.patient,
        action=Action.UPDATE,
        object_type=ObjectType.CARE_TEAM_MEMBER,
        object_id=assignment.pk,
        summary=f"{assignment.member} left the care team: {why[:200]}",
    )
    return row
