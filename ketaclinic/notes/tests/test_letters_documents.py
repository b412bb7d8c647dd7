import datetime as dt
import hashlib
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client

from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.notes import rules
from ketaclinic.notes.models import Letter, LetterDispatch, OutsideDocument, ReleaseAuthorisation
from ketaclinic.notes.selectors.letters import document_file, letter_facts
from ketaclinic.notes.services import documents, letters
from ketaclinic.notes.views.letters import refuse_fetch

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _pdf_text(content: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "letter.pdf"
        path.write_bytes(content)
        result = subprocess.run(["/usr/bin/pdftotext", str(path), "-"], capture_output=True, check=True)
    return result.stdout.decode()


def _authorisation(by: Any, patient: Any, **overrides: Any) -> ReleaseAuthorisation:
    fields: dict[str, Any] = {
        "recipient": "Dr Lee Park, Mind Center",
        "scope": "letters",
        "signed_by": "patient",
        "signer_name": "Elena Marsh",
        "signed_on": dt.date(2026, 1, 5),
        "expires_on": dt.date(2099, 1, 5),
    }
    fields.update(overrides)
    return letters.record_authorisation(by=by, patient=patient, **fields)


def _signed_letter(clinician: Any, patient: Any, kind: str = "series_summary") -> Letter:
    letter = letters.draft_letter(
        by=clinician,
        patient=patient,
        kind=kind,
        recipient_name="Dr Lee Park",
        recipient_address="1 Main St",
        facts=letter_facts(viewer=clinician, patient=patient),
    )
    return letters.sign_letter(by=clinician, letter=letter)


def test_letter_draft_is_written_from_the_facts() -> None:
    facts = rules.LetterFacts(
        patient_name="Elena Marsh",
        date_of_birth="14 Mar 1988",
        clinic_name="Northlight",
        author_name="Maya Chen",
        eligibility=None,
        eligibility_reasons="",
        eligibility_conditions="",
        infusion_count=6,
        first_infusion="1 Feb 2026",
        last_infusion="20 Feb 2026",
        scales=(rules.ScaleSummary("PHQ-9", "21", "8", "-61.9"),),
    )
    subject, body = rules.letter_draft("series_summary", facts)
    assert subject == "Summary of the infusion series: Elena Marsh (born 14 Mar 1988)"
    assert "6 infusion(s) were given between 1 Feb 2026 and 20 Feb 2026." in body
    assert "PHQ-9: baseline 21, latest 8 (-61.9% from baseline)." in body


def test_authorisation_covers_only_its_dates_and_scope() -> None:
    common = {"signed_on": "2026-01-05", "expires_on": "2026-06-30"}
    assert rules.authorisation_covers(scope="letters", today="2026-03-01", letter=True, **common)
    assert not rules.authorisation_covers(scope="letters", today="2026-07-01", letter=True, **common)
    assert not rules.authorisation_covers(scope="letters", today="2026-03-01", letter=False, **common)
    assert rules.authorisation_covers(scope="record", today="2026-03-01", letter=False, **common)


def test_sending_needs_a_current_authorisation(clinician: Any, patient: Any) -> None:
    letter = _signed_letter(clinician, patient)
    with pytest.raises(DomainError) as refused:
        letters.send_letter(
            by=clinician, letter=letter, sent_to="Dr Park", method="fax", pdf=b"x", authorisation=None
        )
    assert refused.value.code == "no_release_authorisation"
    expired = _authorisation(clinician, patient, expires_on=dt.date(2026, 1, 6))
    with pytest.raises(DomainError):
        letters.send_letter(
            by=clinician, letter=letter, sent_to="Dr Park", method="fax", pdf=b"x", authorisation=expired
        )
    assert LetterDispatch.objects.count() == 0
    current = _authorisation(clinician, patient)
    row = letters.send_letter(
        by=clinician, letter=letter, sent_to="Dr Park", method="fax", pdf=b"pdf", authorisation=current
    )
    assert (row.authorisation, row.pdf_sha256) == (current, hashlib.sha256(b"pdf").hexdigest())


def test_a_signed_letter_is_locked_in_the_database(clinician: Any, patient: Any) -> None:
    letter = _signed_letter(clinician, patient)
    with pytest.raises(DatabaseError), transaction.atomic():
        Letter.objects.filter(pk=letter.pk).update(body="changed")
    with pytest.raises(DomainError):
        letters.edit_letter(
            by=clinician,
            letter=letter,
            recipient_name="x",
            recipient_address="",
            subject="s",
            body="b",
            include_outcome_graph=False,
        )


def test_therapist_cannot_write_letters(therapist: Any, patient: Any) -> None:
    with pytest.raises(PermissionDenied):
        letter_facts(viewer=therapist, patient=patient)
    assert Letter.objects.count() == 0


def test_series_summary_pdf_reads_back(client_for: Any, clinician: Any, patient: Any) -> None:
    letter = _signed_letter(clinician, patient)
    client = client_for(clinician)
    response = client.get(f"/notes/letters/{letter.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Summary of the infusion series" in text
    assert "Dr Lee Park" in text
    assert "Electronically signed by" in text


def test_the_letter_renderer_fetches_nothing() -> None:
    with pytest.raises(ValueError, match="letters fetch nothing"):
        refuse_fetch("http://example.com/pixel.png")


def test_document_is_filed_by_its_real_type_with_its_hash(nurse: Any, patient: Any) -> None:
    row = documents.file_document(
        by=nurse,
        patient=patient,
        content=PNG,
        original_name="scan.pdf",
        document_type="ecg",
        document_date=dt.date(2026, 1, 2),
        source="Cardiology",
        title="ECG",
    )
    assert (row.media_type, row.size_bytes) == ("image/png", len(PNG))
    assert row.content_sha256 == hashlib.sha256(PNG).hexdigest()
    assert row.storage_name.endswith(".png")
    assert "scan" not in row.storage_name
    assert document_file(viewer=nurse, document_id=row.pk).content == PNG


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"MZ\x90\x00 not a pdf", "Only PDF, JPEG, PNG and TIFF files"),
        (b"", "The file is empty."),
        (PDF.replace(b"<<>>", b"<</OpenAction<</JS(app.alert(1))>>>>"), "active content"),
    ],
)
def test_refused_documents_store_nothing(nurse: Any, patient: Any, content: bytes, message: str) -> None:
    with pytest.raises(DomainError) as refused:
        documents.file_document(
            by=nurse,
            patient=patient,
            content=content,
            original_name="record.pdf",
            document_type="other",
            document_date=dt.date(2026, 1, 2),
            source="Hospital",
            title="Record",
        )
    assert message in refused.value.message
    assert OutsideDocument.objects.count() == 0


def test_upload_refusal_rerenders_the_form(client: Client, nurse: Any, patient: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(nurse)
    response = client.post(
        f"/notes/patients/{patient.pk}/documents/",
        {
            "file": SimpleUploadedFile("evil.pdf", b"#!/bin/sh\necho hi\n"),
            "document_type": "other",
            "document_date": "2026-01-02",
            "source": "Hospital",
            "title": "Record",
        },
    )
    assert response.status_code == 422
    assert "Only PDF, JPEG, PNG and TIFF files" in response.content.decode()
    assert OutsideDocument.objects.count() == 0
