"""Reading a patient's care team: current members and ended assignments (with who ended them and why), and
the staff who may join it. The caller has read the patient through `patient_for` (audited there)."""

from dataclasses import dataclass

from django.db.models import QuerySet

from ketaclinic.accounts.access import Actor, require
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import NotFound
from ketaclinic.patients.models import CareTeamMember, Patient
from ketaclinic.patients.selectors import patients_for


@dataclass(frozen=True)
class CareTeam:
    current: list[CareTeamMember]
    ended: list[CareTeamMember]


def care_team(*, viewer: Actor, patient: Patient) -> CareTeam:
    require(viewer, Perm.VIEW_PATIENT)
    rows = list(
        CareTeamMember.objects.filter(patient=patient)
        .select_related("member", "added_by", "end_record__ended_by")
        .order_by("added_at", "pk")
    )
    return CareTeam(
        current=[row for row in rows if row.ended_at is None],
        ended=[row for row in rows if row.ended_at is not None],
    )


def joinable_staff(*, viewer: Actor, patient: Patient) -> QuerySet[User]:
    """Active clinical staff of the patient's clinic (who read notes) not on the care team now."""
    require(viewer, Perm.MANAGE_CARE_TEAM)
    current = CareTeamMember.objects.filter(patient=patient, ended_at__isnull=True).values("member_id")
    people = (
        User.objects.filter(clinics=patient.clinic_id, is_active=True)
        .exclude(pk__in=current)
        .order_by("last_name", "first_name")
    )
    return people.filter(pk__in=[person.pk for person in people if can(person, Perm.VIEW_NOTES)])


def assignment_for(*, viewer: Actor, assignment_id: int) -> CareTeamMember:
    """One care-team assignment of a patient the viewer may see (NotFound otherwise)."""
    row = (
        CareTeamMember.objects.filter(pk=assignment_id, patient__in=patients_for(viewer=viewer))
        .select_related("patient__clinic", "member")
        .first()
    )
    if row is None:
        raise NotFound("No such care-team assignment.")
    return row
