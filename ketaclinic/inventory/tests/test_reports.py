"""The inspector's reports: the dispensing/administration log, the inventory and the Form 106 data, as
pages, CSV (guarded against formula injection) and PDF (checked with pdftotext)."""

import csv
import io
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.spreadsheet import safe_cell
from ketaclinic.inventory.models import ChainHead, Discrepancy, LossType, ResolutionKind
from ketaclinic.inventory.services import chain, counts, draws
from ketaclinic.inventory.tests.factories import mg, trusted
from ketaclinic.inventory.views.reports import refuse_network
from ketaclinic.patients.services import update_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispensed(nurse, clinician, vial, patient):
    update_patient(
        by=nurse, patient=patient, details={"address_line": '=HYPERLINK("http://x")', "city": "Burlington"}
    )
    draw = draws.draw_from_vial(
        by=nurse, vial_id=vial.pk, amount_mg=mg("40"), patient=patient, dose_order_id=2
    )
    draws.record_administration(by=nurse, draw_id=draw.pk, amount_mg=mg("36"))
    draws.record_waste(
        by=nurse,
        draw_id=draw.pk,
        amount_mg=mg("4"),
        method="denaturing_container",
        reason="",
        witness=trusted(clinician),
    )
    return draw


def _pdf_text(content: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(content)
        result = subprocess.run(
            ["/usr/bin/pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
        )
    return result.stdout.decode()


def test_cells_starting_like_a_formula_become_text() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+3", "-2", "@x", "plain", None, 4)] == [
        "'=1+1",
        "'+3",
        "'-2",
        "'@x",
        "plain",
        "",
        "4",
    ]


def test_the_pdf_renderer_fetches_nothing() -> None:
    with pytest.raises(ValueError, match="reports fetch nothing"):
        refuse_network("http://example.com/tracker.png")


def test_log_csv_has_the_1304_22_facts_and_is_audited(client_for, custodian, dispensed, patient) -> None:
    response = client_for(custodian).get(reverse("inventory:log_csv", args=[dispensed.product_id]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["Substance", "ketamine", "Schedule", "III"]
    assert rows[4] == ["Units per container (mL)", "10.000"]
    receipt_row = rows[8]
    assert receipt_row[1:3] == ["1", "LOT-A1"]
    assert receipt_row[5:8] == ["Cardinal Example Supply", "1 Warehouse Way, Columbus OH 43004", "RC0000000"]
    events = [row for row in rows if len(row) == 11 and row[0] != "date_time"]
    assert [(row[1], row[5], row[6]) for row in events] == [
        ("Drawn", "40.000", "0.800"),
        ("Administered", "36.000", "0.720"),
        ("Wasted", "4.000", "0.080"),
    ]
    assert events[1][3] == "Elena Marsh"
    assert events[1][4] == '\'=HYPERLINK("http://x"), Burlington'
    assert events[1][7:9] == ["Nurse Tester", "NT"]
    assert events[2][9] == "Clinician Tester"
    assert (
        AuditEvent.objects.filter(
            action="export", patient_id=patient.pk, object_type="controlled_substance_log"
        ).count()
        == 1
    )
    assert (
        AuditEvent.objects.filter(
            action="export", object_type="controlled_substance_log", channel="export"
        ).count()
        == 1
    )


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_log_pdf_reads_back_with_the_same_facts(client_for, custodian, dispensed) -> None:
    response = client_for(custodian).get(reverse("inventory:log_pdf", args=[dispensed.product_id]))
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Dispensing and administration log: Ketamine HCl injection 50 mg/mL" in text
    assert "Cardinal Example Supply" in text
    assert "Administered" in text
    assert "36.000" in text
    assert "Records kept for at least 2 years" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_inventory_and_form_106_from_a_count_with_a_loss(client_for, nurse, custodian, vial, clinic) -> None:
    clinic.dea_registration = "FM1234563"
    clinic.save()
    count = counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose="biennial",
        business_time="close",
        counted_ml={vial.pk: Decimal("7")},
        witness=trusted(custodian),
    )
    counts.resolve_discrepancy(
        by=custodian,
        discrepancy=Discrepancy.objects.get(),
        kind=ResolutionKind.THEFT_OR_LOSS,
        reason="3 mL missing; safe log shows after-hours access",
        loss_type=LossType.EMPLOYEE_THEFT,
    )
    client = client_for(custodian)
    inventory_csv = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("inventory:inventory_report_csv", args=[count.pk])).content.decode()
            )
        )
    )
    assert inventory_csv[6][5:] == ["0", "1", "7.000", "350.000", "7.000", "350.000"]
    inventory_pdf = _pdf_text(client.get(reverse("inventory:inventory_report_pdf", args=[count.pk])).content)
    assert "close of business" in inventory_pdf
    assert "FM1234563" in inventory_pdf
    discrepancy = Discrepancy.objects.get()
    form = dict(
        csv.reader(
            io.StringIO(client.get(reverse("inventory:form106_csv", args=[discrepancy.pk])).content.decode())
        )
    )
    assert form["NDC"] == "00000-0050-10"
    assert form["Quantity lost (mg)"] == "150.000"
    assert form["Quantity lost (mL)"] == "3.000"
    assert form["Type of theft or loss"] == "Employee theft"
    assert form["DEA registration number"] == "FM1234563"
    pdf = _pdf_text(client.get(reverse("inventory:form106_pdf", args=[discrepancy.pk])).content)
    assert "DEA Form 106 data" in pdf
    assert "150.000" in pdf


def test_form_106_is_404_for_a_minor_variance(client_for, nurse, custodian, vial, clinic) -> None:
    counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose="shift",
        business_time="close",
        counted_ml={vial.pk: Decimal("9.9")},
        witness=trusted(custodian),
    )
    discrepancy = Discrepancy.objects.get()
    counts.resolve_discrepancy(
        by=custodian, discrepancy=discrepancy, kind=ResolutionKind.MINOR_VARIANCE, reason="drop"
    )
    response = client_for(custodian).get(reverse("inventory:form_106", args=[discrepancy.pk]))
    assert response.status_code == 404


def test_clinic_admin_reads_reports_but_not_stock_pages(client_for, clinic_admin, dispensed) -> None:
    client = client_for(clinic_admin)
    assert client.get(reverse("inventory:log", args=[dispensed.product_id])).status_code == 200
    assert client.get(reverse("inventory:dashboard")).status_code == 403


def test_the_inventory_report_prints_the_chain_heads_and_the_signed_checkpoint(
    client_for, nurse, custodian, vial, clinic, settings, tmp_path
) -> None:
    settings.KETACLINIC_CHECKPOINT_DIR = tmp_path
    checkpoint = chain.write_checkpoint()
    count = counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose="biennial",
        business_time="close",
        counted_ml={vial.pk: Decimal("10")},
        witness=trusted(custodian),
    )
    head = ChainHead.objects.get(product=vial.product)
    client = client_for(custodian)
    url = reverse("inventory:inventory_report_csv", args=[count.pk])
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    assert rows[-3:] == [
        ["checkpoint_day", checkpoint.day.isoformat(), "signature", checkpoint.signature],
        ["product", "chain_entries", "chain_head_hmac_sha256"],
        [vial.product.name, str(head.sequence), head.entry_hash],
    ]
    page = client.get(reverse("inventory:inventory_report", args=[count.pk])).content.decode()
    assert f"<code>{checkpoint.signature}</code>" in page
    assert f"<code>{head.entry_hash}</code>" in page
