"""Demo clinical documentation, made through the services: the therapist Jamie Ortiz on the care team of the
main clinic's patients; Lena's signed KAP preparation note with an addendum, a psychotherapy note kept apart,
Dr Chen's draft follow-up note, her release authorisation for her referring physician and a draft
consultation summary to that physician. Idempotent: a second call makes nothing."""

import datetime as dt

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


def _care_team(staff: dict[str, User], patients: dict[str, Patient]) -> int:
    therapist, made = staff["therapist"], 0
    for key in ("lena", "noah", "walter"):
        patient = patients[key]
        if CareTeamMember.objects.filter(patient=patient, member=therapist, ended_at__isnull=True).exists():
            continue
        patient_services.assign_care_team_member(
            by=staff["drchen"], patient=patient, member=therapist, responsibility="KAP therapist"
        )
        made += 1
    return made


def _lena_notes(staff: dict[str, User], lena: Patient) -> int:
    therapist, drchen = staff["therapist"], staff["drchen"]
    today = clock.today_in(lena.clinic.time_zone)
    preparation = note_services.create_note(
        by=therapist,
        patient=lena,
        template=NoteTemplate.objects.get(clinic=None, code="kap-preparation"),
        encounter_kind=EncounterKind.PSYCHOTHERAPY_SESSION,
        encounter_on=today - dt.timedelta(days=9),
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
    note_services.add_addendum(
        by=therapist,
        note=preparation,
        text="Lena phoned the next day: she would like her husband in the waiting room, not the chair room.",
    )
    private = note_services.create_note(
        by=therapist,
        patient=lena,
        template=NoteTemplate.objects.get(clinic=None, code="dap"),
        encounter_kind=EncounterKind.PSYCHOTHERAPY_SESSION,
        encounter_on=today - dt.timedelta(days=9),
        kind=NoteKind.PSYCHOTHERAPY,
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
    return 3


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
