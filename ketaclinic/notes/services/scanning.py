"""Virus scanning of outside records with ClamAV: the file's bytes are streamed to clamd (INSTREAM, through
`clamav_client`) before anything is stored. Clean: stored. Infected: refused, nothing stored. The scanner not
answering: stored but held (never served) until a rescan finds it clean: the task worker tries again after
each delay of RESCAN_DELAYS_S, and `manage.py scan_documents --every SECONDS` (run by `make run`) sweeps
every held document on a schedule. No scanner configured (settings.KETACLINIC_CLAMD_ADDRESS empty): stored
as not scanned, and the page says so."""

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import OuterRef, Subquery

from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core import clock
from ketaclinic.notes.models import DocumentScan, OutsideDocument, ScanResult


@dataclass(frozen=True)
class Verdict:
    result: ScanResult
    signature: str = ""
    scanner: str = ""
    detail: str = ""


def scanner_address() -> str:
    return str(settings.KETACLINIC_CLAMD_ADDRESS).strip()


def _client(address: str) -> ClamdUnixSocket | ClamdNetworkSocket:
    timeout = float(settings.KETACLINIC_CLAMD_TIMEOUT_S)
    if address.startswith("/"):
        return ClamdUnixSocket(path=address, timeout=int(timeout))
    host, _, port = address.rpartition(":")
    return ClamdNetworkSocket(host=host or "127.0.0.1", port=int(port), timeout=timeout)


def scan_bytes(content: bytes) -> Verdict:
    """ClamAV's verdict on `content`; HELD when the scanner does not answer or cannot finish."""
    address = scanner_address()
    if not address:
        return Verdict(ScanResult.NOT_SCANNED, detail="No virus scanner is configured.")
    client = None
    try:
        client = _client(address)
        version = client.version()[:100]
        report = client.instream(io.BytesIO(content))
    except (ClamdError, OSError, ValueError) as error:
        # clamav_client leaves the socket of a refused connection open: close it here.
        if (sock := getattr(client, "clamd_socket", None)) is not None:
            sock.close()
        return Verdict(ScanResult.HELD, detail=f"The virus scanner did not answer: {error}"[:300])
    state, name = report.get("stream", ("ERROR", "no answer"))
    if state == "FOUND":
        return Verdict(ScanResult.INFECTED, signature=str(name)[:200], scanner=version)
    if state == "OK":
        return Verdict(ScanResult.CLEAN, scanner=version)
    return Verdict(ScanResult.HELD, scanner=version, detail=f"The scan did not finish: {name}"[:300])


def record_scan(document: OutsideDocument, verdict: Verdict) -> DocumentScan:
    return DocumentScan.objects.create(
        document=document,
        result=verdict.result,
        signature=verdict.signature,
        scanner=verdict.scanner,
        detail=verdict.detail,
        scanned_at=clock.now(),
    )


def documents_to_scan(*, held_only: bool = False) -> list[OutsideDocument]:
    """Documents whose latest scan is held, or not scanned (filed while no scanner was configured) unless
    `held_only`."""
    latest = (
        DocumentScan.objects.filter(document=OuterRef("pk"))
        .order_by("-scanned_at", "-pk")
        .values("result")[:1]
    )
    return list(
        OutsideDocument.objects.annotate(scan_result=Subquery(latest))
        .filter(scan_result__in=[ScanResult.HELD] if held_only else [ScanResult.HELD, ScanResult.NOT_SCANNED])
        .order_by("pk")
    )


@transaction.atomic
def rescan_document(*, document: OutsideDocument, folder: Path) -> DocumentScan:
    """Scan a held (or never scanned) document's stored file again. Infected: the file is deleted (the row,
    append-only, stays with its scan saying why). The job's own audit entry, with no person."""
    path = folder / document.storage_name
    content = path.read_bytes() if path.is_file() else b""
    verdict = scan_bytes(content)
    scan = record_scan(document, verdict)
    if verdict.result == ScanResult.INFECTED:
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
    record_change(
        by=AnonymousUser(),
        action=Action.UPDATE,
        object_type=ObjectType.OUTSIDE_DOCUMENT,
        object_id=document.pk,
        patient_id=document.patient_id,
        clinic_id=document.clinic_id,
        summary=f"virus scan: {verdict.result}" + (f" ({verdict.signature})" if verdict.signature else ""),
    )
    return scan


# A held upload is scanned again by the task worker after each of these delays (1, 5 and 15 minutes, then
# hourly for six hours); after the last one only the scheduled sweep (`scan_documents --every`) retries it.
RESCAN_DELAYS_S = (60, 300, 900, 3600, 3600, 3600, 3600, 3600, 3600)


def schedule_rescan(*, document_id: int, attempt: int) -> bool:
    """Queue the rescan of a held document (once the transaction commits) after the attempt's delay; False
    when the attempts are used up. A backend that cannot defer (tests' immediate backend) runs it at once."""
    if attempt >= len(RESCAN_DELAYS_S):
        return False
    from ketaclinic.notes.tasks import rescan_held_document

    task = rescan_held_document
    if task.get_backend().supports_defer:
        task = task.using(run_after=clock.now() + dt.timedelta(seconds=RESCAN_DELAYS_S[attempt]))
    transaction.on_commit(lambda: task.enqueue(document_id=document_id, attempt=attempt))
    return True


def rescan_if_held(*, document_id: int, attempt: int, folder: Path) -> str:
    """The task's work: scan a document again while its latest scan says held. Clean or infected ends it;
    held again queues the next attempt. Returns the result ("" when the document was no longer held)."""
    if document_id not in {document.pk for document in documents_to_scan(held_only=True)}:
        return ""
    scan = rescan_document(document=OutsideDocument.objects.get(pk=document_id), folder=folder)
    if scan.result == ScanResult.HELD:
        schedule_rescan(document_id=document_id, attempt=attempt + 1)
    return str(scan.result)
