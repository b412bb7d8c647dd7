"""Virus scanning of outside records with a real ClamAV daemon: one clamd for this module, on a signature
database of our own (the MD5 of one test file; the public signatures cannot be downloaded here), started in
well under a second."""

import datetime as dt
import hashlib
import io
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, transaction

from ketaclinic.core.errors import DomainError
from ketaclinic.notes.models import DocumentScan, OutsideDocument, ScanResult
from ketaclinic.notes.selectors.letters import document_file
from ketaclinic.notes.services import documents

# clamd listens on a Unix socket, which pytest-socket blocks unless a test enables sockets.
pytestmark = [pytest.mark.django_db, pytest.mark.enable_socket]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
# A PNG whose bytes our own signature names, standing in for a file carrying a virus.
INFECTED_PNG = PNG + b"ketaclinic test signature"
SIGNATURE = "Ketaclinic.Test.Signature"


def _wait_for_socket(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"clamd stopped: {process.stdout.read().decode() if process.stdout else ''}")
        if path.exists():
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(str(path))
                except OSError:
                    pass
                else:
                    return
        time.sleep(0.05)
    raise RuntimeError("clamd did not open its socket within 30 s")


@pytest.fixture(scope="module")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    clamd = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None)
    if clamd is None:
        if os.environ.get("CI"):
            pytest.fail("clamd is not installed (Debian: clamav-daemon; .ci/run installs it)")
        pytest.skip("clamd is not installed (Debian: clamav-daemon)")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    digest = hashlib.md5(INFECTED_PNG, usedforsecurity=False).hexdigest()
    (folder / "db" / "ketaclinic-test.hdb").write_text(f"{digest}:{len(INFECTED_PNG)}:{SIGNATURE}\n")
    sock = folder / "clamd.sock"
    user = "User root\n" if os.geteuid() == 0 else ""
    (folder / "clamd.conf").write_text(
        f"LocalSocket {sock}\nDatabaseDirectory {folder / 'db'}\nForeground yes\nLogFile {folder / 'log'}\n"
        f"{user}"
    )
    process = subprocess.Popen(
        [clamd, "-c", str(folder / "clamd.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_socket(sock, process)
        yield str(sock)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def scanner(settings: Any, clamd_socket: str) -> str:
    settings.KETACLINIC_CLAMD_ADDRESS = clamd_socket
    return clamd_socket


def _file(nurse: Any, patient: Any, content: bytes) -> OutsideDocument:
    return documents.file_document(
        by=nurse,
        patient=patient,
        content=content,
        original_name="ecg.png",
        document_type="ecg",
        document_date=dt.date(2026, 1, 2),
        source="Cardiology",
        title="ECG",
    )


def test_a_clean_file_is_stored_with_its_scan(scanner: str, nurse: Any, patient: Any) -> None:
    row = _file(nurse, patient, PNG)
    scan = DocumentScan.objects.get(document=row)
    assert scan.result == ScanResult.CLEAN
    assert scan.scanner.startswith("ClamAV")
    assert document_file(viewer=nurse, document_id=row.pk).content == PNG


def test_an_infected_file_is_refused_and_nothing_stored(
    scanner: str, client_for: Any, nurse: Any, patient: Any
) -> None:
    folder = documents.documents_dir()
    files_before = set(folder.glob("*")) if folder.exists() else set()
    with pytest.raises(DomainError) as refused:
        _file(nurse, patient, INFECTED_PNG)
    assert SIGNATURE in refused.value.message
    response = client_for(nurse).post(
        f"/notes/patients/{patient.pk}/documents/",
        {
            "file": SimpleUploadedFile("ecg.png", INFECTED_PNG),
            "document_type": "ecg",
            "document_date": "2026-01-02",
            "source": "Cardiology",
            "title": "ECG",
        },
    )
    assert response.status_code == 422
    assert "it was not stored" in response.content.decode()
    assert OutsideDocument.objects.count() == 0
    assert (set(folder.glob("*")) if folder.exists() else set()) == files_before


def test_a_silent_scanner_holds_the_file_until_a_later_scan(
    settings: Any,
    clamd_socket: str,
    tmp_path: Path,
    nurse: Any,
    patient: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.KETACLINIC_CLAMD_ADDRESS = str(tmp_path / "nobody-listens.sock")
    held = _file(nurse, patient, PNG)
    held_infected = _file(nurse, patient, INFECTED_PNG)
    assert {scan.result for scan in DocumentScan.objects.all()} == {ScanResult.HELD}
    with pytest.raises(DomainError) as waiting:
        document_file(viewer=nurse, document_id=held.pk)
    assert waiting.value.code == "document_held"
    settings.KETACLINIC_CLAMD_ADDRESS = clamd_socket
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # an infected file is deleted on commit
        call_command("scan_documents", stdout=out)
    assert "Virus found" in out.getvalue()
    assert not (documents.documents_dir() / held_infected.storage_name).exists()
    assert document_file(viewer=nurse, document_id=held.pk).content == PNG
    with pytest.raises(DomainError):
        document_file(viewer=nurse, document_id=held_infected.pk)
    latest = DocumentScan.objects.filter(document=held_infected).order_by("-pk").first()
    assert latest is not None
    assert latest.result == ScanResult.INFECTED
    assert latest.signature.startswith(SIGNATURE)  # ClamAV adds .UNOFFICIAL to a signature of our own


def test_without_a_scanner_the_page_says_so(client_for: Any, nurse: Any, patient: Any) -> None:
    row = _file(nurse, patient, PNG)
    assert DocumentScan.objects.get(document=row).result == ScanResult.NOT_SCANNED
    page = client_for(nurse).get(f"/notes/patients/{patient.pk}/documents/").content.decode()
    assert "No virus scanner is configured." in page


def test_a_scan_is_append_only(nurse: Any, patient: Any) -> None:
    scan = DocumentScan.objects.get(document=_file(nurse, patient, PNG))
    for attempt in (
        lambda: DocumentScan.objects.filter(pk=scan.pk).update(result=ScanResult.CLEAN),
        lambda: DocumentScan.objects.filter(pk=scan.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()


# --- rescans without a person: the task worker's retries and the scheduled sweep ---------------------------


def test_a_held_upload_is_rescanned_by_the_task_a_bounded_number_of_times(
    settings: Any, tmp_path: Path, nurse: Any, patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from ketaclinic.notes.services.scanning import RESCAN_DELAYS_S

    settings.KETACLINIC_CLAMD_ADDRESS = str(tmp_path / "nobody-listens.sock")
    # The tests' task backend runs a task at once (no deferral): every retry runs, then they stop.
    with django_capture_on_commit_callbacks(execute=True):
        held = _file(nurse, patient, PNG)
    results = list(DocumentScan.objects.filter(document=held).values_list("result", flat=True))
    assert results == [ScanResult.HELD] * (1 + len(RESCAN_DELAYS_S))


def test_the_task_releases_a_held_file_once_the_scanner_answers(
    settings: Any, clamd_socket: str, tmp_path: Path, nurse: Any, patient: Any
) -> None:
    from ketaclinic.notes.tasks import rescan_held_document

    settings.KETACLINIC_CLAMD_ADDRESS = str(tmp_path / "nobody-listens.sock")
    held = _file(nurse, patient, PNG)
    settings.KETACLINIC_CLAMD_ADDRESS = clamd_socket
    assert rescan_held_document.enqueue(document_id=held.pk, attempt=2).return_value == ScanResult.CLEAN
    assert document_file(viewer=nurse, document_id=held.pk).content == PNG
    # Idempotent: a document no longer held is left alone.
    assert rescan_held_document.enqueue(document_id=held.pk, attempt=3).return_value == ""
    assert DocumentScan.objects.filter(document=held).count() == 2


def test_a_deferring_backend_gets_the_retry_after_its_delay(monkeypatch: Any) -> None:
    from ketaclinic.core import clock
    from ketaclinic.notes.services import scanning
    from ketaclinic.notes.tasks import rescan_held_document

    queued: list[Any] = []
    backend = rescan_held_document.get_backend()
    monkeypatch.setattr(type(backend), "supports_defer", True)
    monkeypatch.setattr(
        type(backend), "enqueue", lambda self, task, args, kwargs: queued.append((task, kwargs))
    )
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    monkeypatch.setattr(scanning.transaction, "on_commit", lambda callback: callback())
    assert scanning.schedule_rescan(document_id=7, attempt=1)
    ((task, kwargs),) = queued
    assert kwargs == {"document_id": 7, "attempt": 1}
    assert task.run_after == now + dt.timedelta(seconds=scanning.RESCAN_DELAYS_S[1])
    assert not scanning.schedule_rescan(document_id=7, attempt=len(scanning.RESCAN_DELAYS_S))


def test_scan_documents_every_sweeps_on_a_schedule(
    settings: Any,
    clamd_socket: str,
    tmp_path: Path,
    nurse: Any,
    patient: Any,
    monkeypatch: Any,
) -> None:
    from ketaclinic.notes.management.commands import scan_documents

    settings.KETACLINIC_CLAMD_ADDRESS = str(tmp_path / "nobody-listens.sock")
    held = _file(nurse, patient, PNG)
    settings.KETACLINIC_CLAMD_ADDRESS = clamd_socket
    slept: list[float] = []
    monkeypatch.setattr(scan_documents.time, "sleep", slept.append)
    out = io.StringIO()
    call_command("scan_documents", "--every", "60", "--rounds", "2", stdout=out)
    assert out.getvalue().splitlines() == ["Checked: no virus found: 1", "Nothing waiting for a scan."]
    assert slept == [60]
    assert document_file(viewer=nurse, document_id=held.pk).content == PNG


def test_scan_documents_every_without_a_scanner_stops_quietly(settings: Any) -> None:
    from django.core.management.base import CommandError

    settings.KETACLINIC_CLAMD_ADDRESS = ""
    out = io.StringIO()
    call_command("scan_documents", "--every", "300", stdout=out)
    assert "no scheduled rescans" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("scan_documents", stdout=out)
