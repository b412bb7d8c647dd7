"""Outside records: a PDF or image filed on a patient's chart. The file's real type is read from its content
(`filetype`), never its name; it is stored outside the database under a random name, and the row keeps its
SHA-256 so a changed file is noticed."""

import datetime as dt
import hashlib
import secrets
from pathlib import Path

import filetype  # type: ignore[import-untyped]  # filetype ships no type information
from django.conf import settings
from django.db import transaction

from ketaclinic.accounts.access import Actor, require
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.inputs import text_problem
from ketaclinic.notes import rules
from ketaclinic.notes.errors import NoteError, NoteErrorCode
from ketaclinic.notes.models import DocumentType, OutsideDocument, ScanResult
from ketaclinic.notes.services import scanning
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_for

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/tiff": "tif"}


def documents_dir() -> Path:
    return Path(settings.KETACLINIC_DOCUMENTS_DIR)


def _text(value: str, *, field: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise NoteError(NoteErrorCode.INVALID, "This field is required.", field=field)
    if len(text) > limit or text_problem(text):
        raise NoteError(NoteErrorCode.INVALID, f"At most {limit} plain characters.", field=field)
    return text


def file_document(
    *,
    by: Actor,
    patient: Patient,
    content: bytes,
    original_name: str,
    document_type: str,
    document_date: dt.date,
    source: str,
    title: str,
) -> OutsideDocument:
    """File an outside document on the patient's chart; refused (nothing stored) when its content is not an
    allowed type, too large, a PDF with active content, or ClamAV finds a virus in it. The scan runs before
    the transaction (a slow scanner holds no lock); a scanner that does not answer leaves it held."""
    require(by, Perm.FILE_DOCUMENTS)
    if not patients_for(viewer=by).filter(pk=patient.pk).exists():
        raise NotFound("No such patient in your clinics.")
    if document_type not in DocumentType.values:
        raise NoteError(NoteErrorCode.INVALID, "Choose the type of document.", field="document_type")
    if document_date > clock.today_in(patient.clinic.time_zone):
        raise NoteError(
            NoteErrorCode.INVALID, "The document cannot be dated in the future.", field="document_date"
        )
    kind = filetype.guess(content[:8192]) if content else None
    media_type = kind.mime if kind is not None else None
    if problem := rules.document_problem(media_type=media_type, size_bytes=len(content), content=content):
        raise NoteError(NoteErrorCode.DOCUMENT_REFUSED, problem, field="file")
    assert media_type is not None
    verdict = scanning.scan_bytes(content)
    if verdict.result == ScanResult.INFECTED:
        raise NoteError(
            NoteErrorCode.DOCUMENT_REFUSED,
            f"The virus scanner found {verdict.signature or 'a virus'} in the file: it was not stored.",
            field="file",
        )
    return _store(
        by=by,
        patient=patient,
        content=content,
        media_type=media_type,
        original_name=original_name,
        document_type=document_type,
        document_date=document_date,
        source=source,
        title=title,
        verdict=verdict,
    )


@transaction.atomic
def _store(
    *,
    by: Actor,
    patient: Patient,
    content: bytes,
    media_type: str,
    original_name: str,
    document_type: str,
    document_date: dt.date,
    source: str,
    title: str,
    verdict: scanning.Verdict,
) -> OutsideDocument:
    storage_name = f"{secrets.token_hex(16)}.{EXTENSIONS[media_type]}"
    folder = documents_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / storage_name
    row = OutsideDocument.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        document_type=document_type,
        document_date=document_date,
        source=_text(source, field="source", limit=200),
        title=_text(title, field="title", limit=200),
        original_name=Path(original_name).name[:255] or "upload",
        media_type=media_type,
        size_bytes=len(content),
        content_sha256=hashlib.sha256(content).hexdigest(),
        storage_name=storage_name,
        uploaded_by=by,
        uploaded_at=clock.now(),
    )
    # Written inside the transaction: a rollback leaves an unreferenced file, never a row without its file.
    path.write_bytes(content)
    scanning.record_scan(row, verdict)
    if verdict.result == ScanResult.HELD:
        scanning.schedule_rescan(document_id=row.pk, attempt=0)
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.OUTSIDE_DOCUMENT,
        object_id=row.pk,
        summary=f"outside record filed: {row.get_document_type_display()} (virus scan: {verdict.result})",
    )
    return row
