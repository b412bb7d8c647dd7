"""Notes: a draft is written (and autosaved) by its author, signed (then the database locks it), co-signed by
the supervisor the author named, and changed only by addenda. A psychotherapy note stays its author's until
the author releases it. Every write is audited on the patient's record."""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from ketaclinic.accounts.access import Actor, require, works_at
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, ErrorCode, NotFound
from ketaclinic.core.inputs import NOTE_MAX_CHARS, clean_reason, text_problem
from ketaclinic.notes import rules
from ketaclinic.notes.errors import NoteConflict, NoteError, NoteErrorCode, NoteForbidden
from ketaclinic.notes.models import (
    EncounterKind,
    Modality,
    Note,
    NoteAddendum,
    NoteCosignature,
    NoteKind,
    NoteRelease,
    NoteTemplate,
    RiskLevel,
)
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_for
from ketaclinic.scheduling.models import Appointment

# A long psychotherapy note is still a few pages; a section longer than this is a paste gone wrong.
SECTION_MAX_CHARS = 20_000
SESSION_MAX_MIN = 600


@dataclass(frozen=True)
class NoteContent:
    """What a draft holds: the template's sections' texts and, for a session, its structured fields."""

    sections: dict[str, str]
    encounter_on: dt.date | None = None
    session_length_min: int | None = None
    modality: str = ""
    themes: str = ""
    risk_level: str = RiskLevel.NOT_ASSESSED
    risk_note: str = ""


def template_sections(template: NoteTemplate) -> list[rules.Section]:
    """The template's sections as rules.Section values."""
    return [
        rules.Section(
            key=str(row["key"]),
            label=str(row["label"]),
            hint=str(row.get("hint", "")),
            required=bool(row.get("required", True)),
        )
        for row in template.sections
    ]


def _audit(
    by: Actor, note: Note, action: str, object_type: ObjectType, object_id: object, summary: str
) -> None:
    record_patient_change(
        by=by,
        patient=note.patient,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
    )


def _check_patient(by: Actor, patient: Patient) -> None:
    # The caseload check: a therapist writes only for patients on whose care team they are.
    if not patients_for(viewer=by).filter(pk=patient.pk).exists():
        raise NotFound("No such patient in your clinics.")


def _text(value: str, *, field: str, limit: int = SECTION_MAX_CHARS) -> str:
    text = value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise NoteError(NoteErrorCode.INVALID, f"At most {limit} characters.", field=field)
    if problem := text_problem(text):
        raise NoteError(NoteErrorCode.INVALID, problem, field=field)
    return text


def _require_author(by: Actor, note: Note) -> None:
    if note.author_id != by.pk:
        raise NoteForbidden(NoteErrorCode.NOT_AUTHOR, "Only the note's author can do that.")


@transaction.atomic
def create_note(
    *,
    by: Actor,
    patient: Patient,
    template: NoteTemplate,
    encounter_kind: str,
    encounter_on: dt.date,
    kind: str = NoteKind.PROGRESS,
    appointment: Appointment | None = None,
) -> Note:
    """A new draft of `by` from a template for an encounter on a day. With `appointment` (a psychotherapy
    session of the patient), the note documents that session: its encounter is the session, on its day; one
    note of each kind per session."""
    require(by, Perm.WRITE_NOTES)
    if kind == NoteKind.PSYCHOTHERAPY:
        require(by, Perm.WRITE_PSYCHOTHERAPY_NOTES)
    elif kind != NoteKind.PROGRESS:
        raise NoteError(NoteErrorCode.INVALID, "Choose a progress or a psychotherapy note.", field="kind")
    _check_patient(by, patient)
    if encounter_kind not in EncounterKind.values:
        raise NoteError(NoteErrorCode.INVALID, "Choose the kind of encounter.", field="encounter_kind")
    if template.clinic_id not in (None, patient.clinic_id) or not template.active:
        raise NoteError(
            NoteErrorCode.TEMPLATE_INVALID, "Choose one of the clinic's templates.", field="template"
        )
    if appointment is not None:
        problem = rules.session_problem(
            appointment_kind=appointment.kind,
            status=appointment.status,
            same_patient=appointment.patient_id == patient.pk,
            started=appointment.starts_at <= clock.now(),
        )
        if problem:
            raise NoteError(NoteErrorCode.SESSION_INVALID, problem, field="appointment")
        if Note.objects.filter(appointment=appointment, kind=kind).exists():
            raise NoteConflict(
                NoteErrorCode.SESSION_DOCUMENTED,
                "This session already has a note of that kind: open it from the session's line.",
                field="appointment",
            )
        encounter_kind = EncounterKind.PSYCHOTHERAPY_SESSION
        encounter_on = appointment.starts_at.astimezone(ZoneInfo(patient.clinic.time_zone)).date()
    if encounter_on > clock.today_in(patient.clinic.time_zone):
        raise NoteError(NoteErrorCode.INVALID, "The encounter cannot be in the future.", field="encounter_on")
    now = clock.now()
    note = Note.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        template=template,
        kind=kind,
        encounter_kind=encounter_kind,
        encounter_on=encounter_on,
        author=by,
        sections={section.key: "" for section in template_sections(template)},
        modality=Modality.INDIVIDUAL if template.session_fields else Modality.NONE,
        appointment=appointment,
        created_at=now,
        updated_at=now,
    )
    _audit(
        by,
        note,
        Action.CREATE,
        ObjectType.NOTE,
        note.pk,
        f"{note.get_kind_display()} started ({template.name})"
        + (f" for the session of {note.encounter_on:%Y-%m-%d}" if appointment is not None else ""),
    )
    return note


@transaction.atomic
def save_draft(*, by: Actor, note: Note, content: NoteContent) -> Note:
    """The draft with `content` (its author only; a signed note is refused)."""
    require(by, Perm.WRITE_NOTES)
    _require_author(by, note)
    note = Note.objects.select_for_update().select_related("patient__clinic", "template").get(pk=note.pk)
    if note.is_signed:
        raise NoteConflict(NoteErrorCode.NOTE_SIGNED, "The note is signed: add an addendum instead.")
    sections = template_sections(note.template)
    texts = {s.key: _text(content.sections.get(s.key, ""), field=f"section_{s.key}") for s in sections}
    if content.session_length_min is not None and not 0 < content.session_length_min <= SESSION_MAX_MIN:
        raise NoteError(
            NoteErrorCode.INVALID, f"Between 1 and {SESSION_MAX_MIN} minutes.", field="session_length_min"
        )
    if content.modality not in Modality.values:
        raise NoteError(NoteErrorCode.INVALID, "Choose a modality.", field="modality")
    if content.risk_level not in RiskLevel.values:
        raise NoteError(NoteErrorCode.INVALID, "Choose a risk level.", field="risk_level")
    if content.encounter_on is not None and note.appointment_id is None:  # a session keeps its day
        if content.encounter_on > clock.today_in(note.patient.clinic.time_zone):
            raise NoteError(
                NoteErrorCode.INVALID, "The encounter cannot be in the future.", field="encounter_on"
            )
        note.encounter_on = content.encounter_on
    themes = ", ".join(rules.parse_themes(_text(content.themes, field="themes", limit=300)))
    note.sections = texts
    note.session_length_min = content.session_length_min
    note.modality = content.modality
    note.themes = themes[:300]
    note.risk_level = content.risk_level
    note.risk_note = _text(content.risk_note, field="risk_note", limit=NOTE_MAX_CHARS)
    note.search_text = rules.compose_text(sections=sections, texts=texts, themes=themes)
    note.updated_at = clock.now()
    note.save()
    _audit(by, note, Action.UPDATE, ObjectType.NOTE, note.pk, "note draft saved")
    return note


@transaction.atomic
def sign_note(*, by: Actor, note: Note, cosigner: Any = None) -> Note:
    """Sign the author's draft: from now on the database refuses changes. A supervisee names the supervisor
    who co-signs (`cosigner`)."""
    require(by, Perm.WRITE_NOTES)
    _require_author(by, note)
    note = Note.objects.select_for_update().select_related("patient", "template").get(pk=note.pk)
    if note.is_signed:
        raise NoteConflict(NoteErrorCode.NOTE_SIGNED, "The note is already signed.")
    problems = rules.problems_before_signing(
        sections=template_sections(note.template),
        texts=note.sections,
        structured=note.template.session_fields,
        session_length_min=note.session_length_min,
        risk_level=note.risk_level,
    )
    if problems:
        first = problems[0]
        field = (
            first.field if first.field in ("session_length_min", "risk_level") else f"section_{first.field}"
        )
        raise NoteError(
            NoteErrorCode.INCOMPLETE, " ".join(problem.message for problem in problems), field=field
        )
    if cosigner is not None and (
        cosigner.pk == by.pk
        or not cosigner.is_active
        or not can(cosigner, Perm.COSIGN_NOTES)
        or not works_at(cosigner, note.clinic_id)
    ):
        raise NoteError(
            NoteErrorCode.COSIGNER_INVALID,
            "The co-signer must be another clinician or therapist of this clinic.",
            field="cosigner",
        )
    note.cosigner = cosigner
    note.signed_at = clock.now()
    note.save(update_fields=["cosigner", "signed_at"])
    summary = "note signed" + (f", co-signature asked of {cosigner}" if cosigner is not None else "")
    _audit(by, note, Action.UPDATE, ObjectType.NOTE, note.pk, summary)
    return note


@transaction.atomic
def cosign_note(*, by: Actor, note: Note) -> NoteCosignature:
    """The named supervisor's co-signature of a signed note."""
    require(by, Perm.COSIGN_NOTES)
    if not note.is_signed or note.cosigner_id is None:
        raise NoteConflict(NoteErrorCode.NOT_SIGNED, "This note is not waiting for a co-signature.")
    if note.cosigner_id != by.pk:
        raise NoteForbidden(
            NoteErrorCode.COSIGNER_INVALID, "The author asked someone else to co-sign this note."
        )
    if NoteCosignature.objects.filter(note=note).exists():
        raise NoteConflict(NoteErrorCode.ALREADY_COSIGNED, "The note is already co-signed.")
    row = NoteCosignature.objects.create(note=note, cosigned_by=by, cosigned_at=clock.now())
    _audit(by, note, Action.CREATE, ObjectType.NOTE_COSIGNATURE, row.pk, "note co-signed")
    return row


@transaction.atomic
def add_addendum(*, by: Actor, note: Note, text: str) -> NoteAddendum:
    """An addendum to a signed note (who and when kept; the note itself never changes)."""
    require(by, Perm.WRITE_NOTES)
    if not note.is_signed:
        raise NoteConflict(NoteErrorCode.NOT_SIGNED, "Edit the draft instead: it is not signed yet.")
    if note.kind == NoteKind.PSYCHOTHERAPY:
        _require_author(by, note)
    body = _text(text, field="text", limit=NOTE_MAX_CHARS)
    if not body:
        raise DomainError(ErrorCode.INVALID, "Write the addendum.", field="text")
    row = NoteAddendum.objects.create(note=note, author=by, written_at=clock.now(), text=body)
    _audit(by, note, Action.CREATE, ObjectType.NOTE_ADDENDUM, row.pk, "addendum added to a signed note")
    return row


@transaction.atomic
def release_psychotherapy_note(*, by: Actor, note: Note, reason: str) -> NoteRelease:
    """The author releases their signed psychotherapy note into the record (API, exports, letters)."""
    require(by, Perm.WRITE_PSYCHOTHERAPY_NOTES)
    _require_author(by, note)
    if note.kind != NoteKind.PSYCHOTHERAPY:
        raise NoteError(NoteErrorCode.NOT_PSYCHOTHERAPY, "Only psychotherapy notes are released.")
    if not note.is_signed:
        raise NoteConflict(NoteErrorCode.NOT_SIGNED, "Sign the note before releasing it.")
    if NoteRelease.objects.filter(note=note).exists():
        raise NoteConflict(NoteErrorCode.ALREADY_RELEASED, "The note is already released.")
    row = NoteRelease.objects.create(
        note=note, released_by=by, released_at=clock.now(), reason=clean_reason(reason)
    )
    _audit(
        by,
        note,
        Action.CREATE,
        ObjectType.NOTE_RELEASE,
        row.pk,
        "psychotherapy note released into the record",
    )
    return row
