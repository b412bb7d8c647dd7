"""Reading notes: a patient's notes, one note, the note search, the templates. A psychotherapy note is seen
only where rules.note_visible allows; elsewhere it is as if it did not exist."""

from django.db.models import Q, QuerySet

from ketaclinic.accounts.access import Actor, require
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read, record_read
from ketaclinic.core.errors import NotFound
from ketaclinic.notes import rules
from ketaclinic.notes.models import Note, NoteKind, NoteTemplate
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_for

SEARCH_LIMIT = 50


def _audit(viewer: Actor, patient: Patient, object_type: ObjectType, object_id: object, channel: str) -> None:
    record_read(
        by=viewer,
        action=Action.VIEW,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        channel=channel if channel != rules.Channel.CHART else None,
    )


def visible_notes(*, viewer: Actor, channel: rules.Channel = rules.Channel.CHART) -> QuerySet[Note]:
    """Notes of the viewer's patients (caseload-scoped) that the viewer may see through `channel`: progress
    notes, released psychotherapy notes and, in the chart only, the viewer's own psychotherapy notes."""
    require(viewer, Perm.VIEW_NOTES)
    rows = Note.objects.filter(patient__in=patients_for(viewer=viewer))
    apart = Q(kind=NoteKind.PSYCHOTHERAPY, release__isnull=True)
    if channel == rules.Channel.CHART:
        # Its author, and the supervisor the author asked to co-sign it, read it in the chart.
        apart &= ~Q(author=viewer) & ~Q(cosigner=viewer)
    return rows.exclude(apart)


def patient_notes(
    *, viewer: Actor, patient: Patient, channel: rules.Channel = rules.Channel.CHART
) -> list[Note]:
    """The patient's notes the viewer may see, newest encounter first, with what the page shows."""
    rows = list(
        visible_notes(viewer=viewer, channel=channel)
        .filter(patient=patient)
        .select_related("author", "template", "cosigner", "cosignature", "release")
    )
    _audit(viewer, patient, ObjectType.NOTES, "", channel)
    return rows


def note_for(*, viewer: Actor, note_id: int, channel: rules.Channel = rules.Channel.CHART) -> Note:
    """One note the viewer may see (NotFound otherwise, whatever the reason)."""
    note = (
        visible_notes(viewer=viewer, channel=channel)
        .select_related("patient__clinic", "author", "template", "cosigner", "cosignature", "release")
        .filter(pk=note_id)
        .first()
    )
    if note is None:
        raise NotFound("No such note.")
    _audit(viewer, note.patient, ObjectType.NOTE, note.pk, channel)
    return note


def search_notes(*, viewer: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[Note]:
    """Notes whose text contains every word of `query`, among those the viewer may read; newest first."""
    words = query.split()[:8]
    if not words:
        return []
    rows = visible_notes(viewer=viewer)
    for word in words:
        rows = rows.filter(search_text__icontains=word[:100])
    found = list(rows.select_related("patient", "author")[:limit])
    record_list_read(
        by=viewer,
        object_type=ObjectType.NOTE_SEARCH,
        patients=[PatientShown(n.patient_id, n.patient.record_number, n.patient.clinic_id) for n in found],
        summary=f"searched notes for {query[:100]!r}",
    )
    return found


def templates_for(*, viewer: Actor, clinic_id: int) -> list[NoteTemplate]:
    """The shipped templates and the clinic's own, active ones."""
    require(viewer, Perm.WRITE_NOTES)
    return list(NoteTemplate.objects.filter(Q(clinic=None) | Q(clinic_id=clinic_id), active=True))


def template_for(*, viewer: Actor, clinic_id: int, template_id: int) -> NoteTemplate:
    template = next(
        (t for t in templates_for(viewer=viewer, clinic_id=clinic_id) if t.pk == template_id), None
    )
    if template is None:
        raise NotFound("No such template.")
    return template


def cosigners_for(*, viewer: Actor, clinic_id: int) -> list[User]:
    """Who may co-sign a note of the clinic: active clinicians and therapists there, not the viewer."""
    people = (
        User.objects.filter(clinics=clinic_id, is_active=True).exclude(pk=viewer.pk).order_by("last_name")
    )
    return [person for person in people if can(person, Perm.COSIGN_NOTES)]


def awaiting_my_cosignature(*, viewer: Actor) -> list[Note]:
    """Signed notes whose author asked the viewer to co-sign and that are not co-signed yet."""
    if not can(viewer, Perm.COSIGN_NOTES):
        return []
    rows = list(
        Note.objects.filter(cosigner=viewer, signed_at__isnull=False, cosignature__isnull=True)
        .filter(patient__in=patients_for(viewer=viewer))
        .select_related("patient", "author")
    )
    record_list_read(
        by=viewer,
        object_type=ObjectType.NOTES_TO_COSIGN,
        patients=[PatientShown(n.patient_id, n.patient.record_number, n.patient.clinic_id) for n in rows],
    )
    return rows


def clinic_templates(*, viewer: Actor) -> list[NoteTemplate]:
    """The shipped templates and those of the viewer's clinics, retired ones too (they stay listed with who
    retired them and why), shipped first."""
    require(viewer, Perm.MANAGE_NOTE_TEMPLATES)
    clinics = clinics_for(viewer)
    return list(
        NoteTemplate.objects.filter(Q(clinic=None) | Q(clinic__in=clinics))
        .select_related("clinic", "replaces", "retired_by", "created_by")
        .order_by("clinic_id", "-active", "name", "pk")
    )


def managed_template(*, viewer: Actor, template_id: int) -> NoteTemplate:
    """A template the viewer may see on the templates page (NotFound otherwise)."""
    found = next((t for t in clinic_templates(viewer=viewer) if t.pk == template_id), None)
    if found is None:
        raise NotFound("No such template.")
    return found
