"""Demo clinical documentation, made through the services: the therapist Jamie Ortiz on the care team of the
main clinic's patients; Lena's preparation session (booked and attended in the scheduling demo) documented
by a signed KAP preparation note written that afternoon, with an addendum the next day, and a psychotherapy
note kept apart; Dr Chen's draft follow-up note, her release authorisation for her referring physician and
a draft consultation summary to that physician. Idempotent: a second call makes nothing."""

import datetime as dt
from zoneinfo import ZoneInfo

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.notes.models import (
    AuthorisationScope,
    AuthorisationSigner,
    EncounterKind,
    Letter,
    LetterKind,
    Modality,
    Note,
    NoteKind,
    NoteTemplate,
    RiskLevel,
)
from ketaclinic.notes.selectors.letters import letter_facts
from ketaclinic.notes.services import letters as letter_services
from ketaclinic.notes.services import notes as note_services
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import CareTeamMember, Patient
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

# The therapist writes the session's notes this long after it ends, and the addendum the next morning.
NOTES_AFTER_SESSION = dt.timedelta(minutes=30)
ADDENDUM_NEXT_DAY_AT = dt.time(9, 30)


def _care_team(staff: dict[str, User], patients: dict[str, Patient]) -> int:
    therapist, made = staff["therapist"], 0
    for key in ("lena", "noah", "walter", "theo"):
        patient = patients[key]
        if CareTeamMember.objects.filter(patient=patient, member=therapist, ended_at__isnull=True).exists():
            continue
        patient_services.assign_care_team_member(
            by=staff["drchen"], patient=patient, member=therapist, responsibility="KAP therapist"
        )
        made += 1
    return made


def _preparation_session(lena: Patient) -> Appointment | None:
    return (
        Appointment.objects.filter(
            patient=lena, kind=AppointmentKind.PSYCHOTHERAPY, status=AppointmentStatus.ATTENDED
        )
        .order_by("starts_at")
        .first()
    )


def _lena_notes(staff: dict[str, User], lena: Patient) -> int:
    drchen = staff["drchen"]
    zone = lena.clinic.time_zone
    today = clock.today_in(zone)
    session = _preparation_session(lena)
    if session is None:
        _lena_session_notes(staff["therapist"], lena, None, today - dt.timedelta(days=9))
    else:
        session_day = session.starts_at.astimezone(ZoneInfo(zone)).date()
        with clock.pinned_at(session.ends_at + NOTES_AFTER_SESSION):
            preparation = _lena_session_notes(staff["therapist"], lena, session, session_day)
        next_day = session_day + dt.timedelta(days=1)
        with clock.pinned_at(dt.datetime.combine(next_day, ADDENDUM_NEXT_DAY_AT, tzinfo=ZoneInfo(zone))):
            _preparation_addendum(staff["therapist"], preparation)
    _follow_up(drchen, lena, today)
    return 3


def _preparation_addendum(therapist: User, preparation: Note) -> None:
    note_services.add_addendum(
        by=therapist,
        note=preparation,
        text="Lena phoned the next day: she would like her husband in the waiting room, not the chair room.",
    )


def _lena_session_notes(
    therapist: User, lena: Patient, session: Appointment | None, session_day: dt.date
) -> Note:
    """The preparation session's signed progress note (KAP preparation) and its psychotherapy note; without
    the session (an older demo database), the same notes dated by the day alone, the addendum at once."""
    preparation = note_services.create_note(
        by=therapist,
        patient=lena,
        template=NoteTemplate.objects.get(clinic=None, code="kap-preparation"),
        encounter_kind=EncounterKind.PSYCHOTHERAPY_SESSION,
        encounter_on=session_day,
        appointment=session,
    )
    note_services.save_draft(
        by=therapist,
        note=preparation,
        content=note_services.NoteContent(
            sections={
                "intentions": "Wants to feel less flat in the mornings and to reconnect with her daughter.",
                "expectations": "Talked through dissociation, time distortion and nausea; fears losing "
                "control. Reassured about the nurse at the chair and the recovery time.",
                "safety": "Husband Tom drives her home. Agreed grounding: feet on the floor, slow breathing.",
                "plan": "First infusion next week; integration session two days after it.",
            },
            session_length_min=50,
            modality=Modality.INDIVIDUAL,
            themes="grief, motherhood, control",
            risk_level=RiskLevel.LOW,
            risk_note="Denies current suicidal ideation; safety plan reviewed and on file.",
        ),
    )
    preparation = note_services.sign_note(by=therapist, note=preparation)
    if session is None:
        _preparation_addendum(therapist, preparation)
    private = note_services.create_note(
        by=therapist,
        patient=lena,
        template=NoteTemplate.objects.get(clinic=None, code="dap"),
        encounter_kind=EncounterKind.PSYCHOTHERAPY_SESSION,
        encounter_on=session_day,
        kind=NoteKind.PSYCHOTHERAPY,
        appointment=session,
    )
    note_services.save_draft(
        by=therapist,
        note=private,
        content=note_services.NoteContent(
            sections={
                "data": "Process notes: her mother's illness came up twice; strong feeling in the room.",
                "assessment": "Working hypothesis: grief never allowed; flatness as protection.",
                "plan": "Hold this lightly; see whether it returns in integration.",
            },
            session_length_min=50,
            modality=Modality.INDIVIDUAL,
            risk_level=RiskLevel.LOW,
        ),
    )
    note_services.sign_note(by=therapist, note=private)
    return preparation


def _follow_up(drchen: User, lena: Patient, today: dt.date) -> None:
    follow_up = note_services.create_note(
        by=drchen,
        patient=lena,
        template=NoteTemplate.objects.get(clinic=None, code="soap"),
        encounter_kind=EncounterKind.MEDICATION_MANAGEMENT,
        encounter_on=today,
    )
    note_services.save_draft(
        by=drchen,
        note=follow_up,
        content=note_services.NoteContent(
            sections={
                "subjective": "Sleeping better; no side effects between infusions.",
                "objective": "",
                "assessment": "",
                "plan": "",
            }
        ),
    )


def _lena_letters(staff: dict[str, User], lena: Patient) -> int:
    drchen = staff["drchen"]
    today = clock.today_in(lena.clinic.time_zone)
    letter_services.record_authorisation(
        by=staff["frontdesk"],
        patient=lena,
        recipient="Dr. Ruth Klein, Lakeview Family Practice",
        scope=AuthorisationScope.LETTERS,
        purpose="Continuity of care with her referring physician",
        signed_by=AuthorisationSigner.PATIENT,
        signer_name="Elena Marsh",
        signed_on=today - dt.timedelta(days=30),
        expires_on=today + dt.timedelta(days=335),
    )
    letter_services.draft_letter(
        by=drchen,
        patient=lena,
        kind=LetterKind.CONSULTATION_SUMMARY,
        recipient_name="Dr. Ruth Klein, Lakeview Family Practice",
        recipient_address="22 Lakeview Road, Burlington VT 05401",
        facts=letter_facts(viewer=drchen, patient=lena),
    )
    return 2


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Create what is missing of the notes demo; returns how many rows were made."""
    made = _care_team(staff, patients)
    if not Note.objects.filter(patient=patients["lena"]).exists():
        made += _lena_notes(staff, patients["lena"])
    if not Letter.objects.filter(patient=patients["lena"]).exists():
        made += _lena_letters(staff, patients["lena"])
    return made
