"""Reading letters, authorisations and outside records; the facts a letter is drafted from."""

from dataclasses import dataclass
from pathlib import Path

from django.db.models import OuterRef, Subquery

from ketaclinic.accounts.access import Actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core.errors import NotFound
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.measures.selectors import InstrumentCourse, patient_measures
from ketaclinic.notes import rules
from ketaclinic.notes.errors import NoteConflict, NoteError, NoteErrorCode
from ketaclinic.notes.models import DocumentScan, Letter, OutsideDocument, ReleaseAuthorisation, ScanResult
from ketaclinic.notes.services.documents import documents_dir
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_for
from ketaclinic.screening.models import EligibilityDecision


def _audit(
    viewer: Actor, patient: Patient, object_type: ObjectType, object_id: object, action: str = Action.VIEW
) -> None:
    record_read(
        by=viewer,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
    )


def _plain(value: object) -> str:
    from decimal import Decimal

    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def outcome_courses(*, viewer: Actor, patient: Patient) -> list[InstrumentCourse]:
    """The patient's scale courses with their outcome graphs (empty for a viewer who does not read scales)."""
    if not can(viewer, Perm.VIEW_MEASURES):
        return []
    return [
        course
        for course in patient_measures(viewer=viewer, patient_id=patient.pk).courses
        if course.course.rows
    ]


def letter_facts(*, viewer: Actor, patient: Patient) -> rules.LetterFacts:
    """What a new letter is written from: the signed eligibility decision, the infusions given, the scales."""
    require(viewer, Perm.SEND_LETTERS)
    decision = EligibilityDecision.objects.filter(patient=patient).order_by("-signed_at").first()
    visits = list(
        InfusionVisit.objects.filter(patient=patient)
        .order_by("opened_at")
        .values_list("opened_at", flat=True)
    )
    scales = []
    for course in outcome_courses(viewer=viewer, patient=patient):
        rows = course.course.rows
        change = rows[-1].percent_change if len(rows) > 1 else None
        scales.append(
            rules.ScaleSummary(
                short_name=course.short_name,
                baseline=_plain(rows[0].point.total),
                latest=_plain(rows[-1].point.total),
                percent_change=_plain(change) if change is not None else None,
            )
        )
    return rules.LetterFacts(
        patient_name=patient.full_name,
        date_of_birth=f"{patient.date_of_birth:%d %b %Y}",
        clinic_name=patient.clinic.name,
        author_name=viewer.display_name,
        eligibility=decision.get_outcome_display() if decision else None,
        eligibility_reasons=decision.reasons if decision else "",
        eligibility_conditions=decision.conditions if decision else "",
        infusion_count=len(visits),
        first_infusion=f"{visits[0]:%d %b %Y}" if visits else None,
        last_infusion=f"{visits[-1]:%d %b %Y}" if visits else None,
        scales=tuple(scales),
    )


def patient_letters(*, viewer: Actor, patient: Patient) -> list[Letter]:
    require(viewer, Perm.VIEW_NOTES)
    rows = list(
        Letter.objects.filter(patient=patient).select_related("author").prefetch_related("dispatches")
    )
    _audit(viewer, patient, ObjectType.LETTERS, "", Action.LIST)
    return rows


def letter_for(*, viewer: Actor, letter_id: int) -> Letter:
    """One letter of the viewer's patients (NotFound otherwise)."""
    require(viewer, Perm.VIEW_NOTES)
    letter = (
        Letter.objects.filter(pk=letter_id, patient__in=patients_for(viewer=viewer))
        .select_related("patient__clinic", "author")
        .first()
    )
    if letter is None:
        raise NotFound("No such letter.")
    _audit(viewer, letter.patient, ObjectType.LETTER, letter.pk)
    return letter


def authorisations_for(*, viewer: Actor, patient: Patient) -> list[ReleaseAuthorisation]:
    """The patient's release authorisations, newest first (the patient comes from an audited read)."""
    return list(
        ReleaseAuthorisation.objects.filter(patient=patient).select_related(
            "revocation", "revocation__recorded_by"
        )
    )


def authorisation_in_reach(*, viewer: Actor, authorisation_id: int) -> ReleaseAuthorisation:
    """A release authorisation of a patient the viewer may see (404 otherwise), its read audited."""
    row = (
        ReleaseAuthorisation.objects.filter(pk=authorisation_id, patient__in=patients_for(viewer=viewer))
        .select_related("patient__clinic")
        .first()
    )
    if row is None:
        raise NotFound("No such authorisation.")
    _audit(viewer, row.patient, ObjectType.RELEASE_AUTHORISATION, row.pk)
    return row


def authorisation_for(*, patient: Patient, authorisation_id: int) -> ReleaseAuthorisation | None:
    return ReleaseAuthorisation.objects.filter(patient=patient, pk=authorisation_id).first()


# The latest virus scan's result of the document in the outer query (a held document is not served).
_latest_scan = (
    DocumentScan.objects.filter(document=OuterRef("pk")).order_by("-scanned_at", "-pk").values("result")[:1]
)


def patient_documents(*, viewer: Actor, patient: Patient) -> list[OutsideDocument]:
    require(viewer, Perm.VIEW_NOTES)
    rows: list[OutsideDocument] = list(
        OutsideDocument.objects.filter(patient=patient)
        .select_related("uploaded_by")
        .annotate(scan_result=Subquery(_latest_scan))
    )
    _audit(viewer, patient, ObjectType.OUTSIDE_DOCUMENTS, "", Action.LIST)
    return rows


@dataclass(frozen=True)
class DocumentFile:
    document: OutsideDocument
    content: bytes


def document_file(*, viewer: Actor, document_id: int) -> DocumentFile:
    """An outside record's file, checked against the SHA-256 recorded when it was filed."""
    import hashlib

    require(viewer, Perm.VIEW_NOTES)
    document = (
        OutsideDocument.objects.filter(pk=document_id, patient__in=patients_for(viewer=viewer))
        .select_related("patient")
        .annotate(scan_result=Subquery(_latest_scan))
        .first()
    )
    if document is None:
        raise NotFound("No such document.")
    if document.scan_result == ScanResult.HELD:
        raise NoteConflict(
            NoteErrorCode.DOCUMENT_HELD, "The document is held until the virus scanner has checked it."
        )
    if document.scan_result == ScanResult.INFECTED:
        raise NoteConflict(
            NoteErrorCode.DOCUMENT_REFUSED,
            "The virus scanner found a virus in this document: it was removed.",
        )
    path: Path = documents_dir() / document.storage_name
    content = path.read_bytes() if path.is_file() else b""
    if hashlib.sha256(content).hexdigest() != document.content_sha256:
        raise NoteError(
            NoteErrorCode.DOCUMENT_REFUSED, "The stored file is missing or changed since it was filed."
        )
    _audit(viewer, document.patient, ObjectType.OUTSIDE_DOCUMENT, document.pk)
    return DocumentFile(document=document, content=content)
