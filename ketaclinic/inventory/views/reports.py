"""The inspector's reports as pages, CSV and PDF. Every export is audited (patients named in it, once each,
by the selector) and CSV cells are guarded against formula injection as the audit export does."""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.context import Channel
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.core.spreadsheet import safe_cell
from ketaclinic.inventory.forms import LogRangeForm
from ketaclinic.inventory.selectors import reports
from ketaclinic.inventory.selectors import stock as stock_selectors
from ketaclinic.protocols.selectors import protocol_int

FORMATS = ("html", "csv", "pdf")


def _csv(filename: str, rows: Iterable[Sequence[object]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def refuse_network(url: str, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint's url_fetcher: reports are self-contained, so nothing may be fetched (no network, no
    files named by the data)."""
    raise ValueError(f"reports fetch nothing: {url[:80]}")


def _pdf(filename: str, template: str, context: dict[str, Any]) -> HttpResponse:
    # Imported here: WeasyPrint loads its stylesheets (and logs about it) on import, which only PDF
    # requests need.
    from weasyprint import HTML  # type: ignore[import-untyped]  # WeasyPrint ships no type information

    html = render_to_string(template, context)
    document = HTML(string=html, url_fetcher=refuse_network, base_url=None).write_pdf()
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    return response


def _require(request: HttpRequest) -> None:
    if not can(request.user, Perm.VIEW_STOCK_REPORTS):
        raise PermissionDenied()


def _export_audit(request: HttpRequest, object_type: ObjectType, object_id: object, summary: str) -> None:
    record_read(
        by=request.user,
        action=Action.EXPORT,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
        channel=Channel.EXPORT,
    )


@never_cache
@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    _require(request)
    clinic = stock_selectors.clinic_for(viewer=request.user, clinic_id=request.GET.get("clinic"))
    context = {
        "clinic": clinic,
        "products": stock_selectors.products_for(viewer=request.user, clinic=clinic),
        "counts": stock_selectors.counts_for(viewer=request.user, clinic=clinic)[:20],
        "losses": stock_selectors.discrepancies_for(viewer=request.user, clinic=clinic).filter(
            resolution__kind="theft_or_loss"
        ),
        "retention_years": protocol_int("cs_record_retention_years"),
        "interval_months": protocol_int("cs_inventory_interval_months"),
        "range_form": LogRangeForm(),
    }
    with timezone.override(ZoneInfo(clinic.time_zone)):
        return render(request, "inventory/reports.html", context)


@never_cache
@login_required
def dispensing_log(request: HttpRequest, product_id: int, output: str = "html") -> HttpResponse:
    _require(request)
    product = stock_selectors.product_for(viewer=request.user, product_id=product_id)
    today = stock_selectors.today_at(product.clinic)
    form = LogRangeForm(request.GET or None)
    start = today - dt.timedelta(days=365 * protocol_int("cs_record_retention_years"))
    end = today
    if form.is_bound:
        if not form.is_valid():
            return render(request, "inventory/log.html", {"form": form, "log": None, "product": product})
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    log = reports.dispensing_log(viewer=request.user, product_id=product.pk, start=start, end=end)
    with timezone.override(ZoneInfo(product.clinic.time_zone)):
        return _dispensing_log_output(request, log, output, form)


def _dispensing_log_output(
    request: HttpRequest, log: reports.DispensingLog, output: str, form: LogRangeForm
) -> HttpResponse:
    product, start, end = log.product, log.start, log.end
    filename = f"cs-log-{product.ndc}-{start:%Y%m%d}-{end:%Y%m%d}"
    if output == "csv":
        _export_audit(request, ObjectType.CONTROLLED_SUBSTANCE_LOG, product.pk, f"CSV {start} to {end}")
        return _csv(filename, _log_rows(log))
    if output == "pdf":
        _export_audit(request, ObjectType.CONTROLLED_SUBSTANCE_LOG, product.pk, f"PDF {start} to {end}")
        return _pdf(filename, "inventory/pdf/log.html", {"log": log})
    query = f"?start={start:%Y-%m-%d}&end={end:%Y-%m-%d}"
    return render(
        request, "inventory/log.html", {"form": form, "log": log, "product": product, "query": query}
    )


def _log_rows(log: reports.DispensingLog) -> list[list[object]]:
    product = log.product
    rows: list[list[object]] = [
        ["Registrant", log.clinic.name, reports.registrant_address(log.clinic), log.clinic.dea_registration],
        ["Substance", product.substance, "Schedule", product.schedule],
        ["Product", product.name, "NDC", product.ndc],
        ["Finished form and strength", f"{product.dosage_form}, {product.concentration_mg_per_ml} mg/mL"],
        ["Units per container (mL)", product.vial_volume_ml],
        ["Period", log.start.isoformat(), log.end.isoformat()],
        [],
        [
            "received_on",
            "containers",
            "lot",
            "expires_on",
            "invoice",
            "supplier",
            "supplier_address",
            "supplier_dea",
            "received_by",
            "witness",
        ],
    ]
    for receipt in log.receipts:
        rows.append(
            [
                receipt.received_on.isoformat(),
                receipt.containers,
                receipt.lot,
                receipt.expires_on.isoformat(),
                receipt.invoice_number,
                receipt.supplier_name,
                receipt.supplier_address,
                receipt.supplier_dea_number,
                receipt.received_by,
                receipt.witness,
            ]
        )
    rows.append([])
    rows.append(
        [
            "date_time",
            "event",
            "vial",
            "patient_name",
            "patient_address",
            "quantity_mg",
            "volume_ml",
            "by",
            "initials",
            "witness",
            "manner",
        ]
    )
    for line in log.lines:
        rows.append(
            [
                line.when.isoformat(timespec="minutes"),
                line.kind,
                line.vial,
                line.patient_name,
                line.patient_address,
                line.amount_mg,
                line.amount_ml,
                line.person,
                line.person_initials,
                line.witness,
                line.manner,
            ]
        )
    return rows


@never_cache
@login_required
def inventory_report(request: HttpRequest, count_id: int, output: str = "html") -> HttpResponse:
    _require(request)
    report = reports.inventory_report(viewer=request.user, count_id=count_id)
    with timezone.override(ZoneInfo(report.clinic.time_zone)):
        filename = f"inventory-{report.taken_at:%Y%m%d}-{report.count_id}"
        if output == "csv":
            _export_audit(request, ObjectType.INVENTORY_REPORT, count_id, "CSV")
            rows: list[list[object]] = [
                ["Registrant", report.clinic.name, reports.registrant_address(report.clinic)],
                ["DEA registration", report.clinic.dea_registration],
                [
                    "Taken",
                    report.taken_at.isoformat(timespec="minutes"),
                    report.business_time,
                    report.purpose,
                ],
                ["Counted by", report.counted_by, "Witness", report.witness],
                [],
                [
                    "product",
                    "ndc",
                    "schedule",
                    "strength_mg_per_ml",
                    "container_ml",
                    "full_containers",
                    "opened_containers",
                    "opened_ml",
                    "opened_mg",
                    "total_ml",
                    "total_mg",
                ],
            ]
            for line in report.lines:
                rows.append(
                    [
                        line.product.name,
                        line.product.ndc,
                        line.product.schedule,
                        line.product.concentration_mg_per_ml,
                        line.product.vial_volume_ml,
                        line.full_containers,
                        line.opened_containers,
                        line.opened_ml,
                        line.opened_mg,
                        line.total_ml,
                        line.total_mg,
                    ]
                )
            rows.append([])
            signature = report.checkpoint_signature
            rows.append(["checkpoint_day", report.checkpoint_day or "", "signature", signature])
            rows.append(["product", "chain_entries", "chain_head_hmac_sha256"])
            rows.extend([head.product.name, head.sequence, head.entry_hash] for head in report.chain_heads)
            return _csv(filename, rows)
        if output == "pdf":
            _export_audit(request, ObjectType.INVENTORY_REPORT, count_id, "PDF")
            return _pdf(filename, "inventory/pdf/inventory.html", {"report": report})
        return render(request, "inventory/inventory_report.html", {"report": report})


@never_cache
@login_required
def form_106(request: HttpRequest, discrepancy_id: int, output: str = "html") -> HttpResponse:
    _require(request)
    try:
        data = reports.form_106(viewer=request.user, discrepancy_id=discrepancy_id)
    except DomainError as error:
        return render(request, "error.html", {"message": error.message, "status": 404}, status=404)
    filename = f"dea-form-106-data-{discrepancy_id}"
    fields = _form_106_fields(data)
    if output == "csv":
        _export_audit(request, ObjectType.DEA_FORM_106, discrepancy_id, "CSV")
        return _csv(filename, [["field", "value"], *fields])
    if output == "pdf":
        _export_audit(request, ObjectType.DEA_FORM_106, discrepancy_id, "PDF")
        return _pdf(filename, "inventory/pdf/form106.html", {"data": data, "fields": fields})
    context = {"data": data, "fields": fields, "discrepancy_id": discrepancy_id}
    return render(request, "inventory/form106.html", context)


def _form_106_fields(data: reports.Form106) -> list[list[object]]:
    return [
        ["Registrant name", data.registrant_name],
        ["Registrant address", data.registrant_address],
        ["DEA registration number", data.registrant_dea_number],
        ["Registrant phone", data.registrant_phone],
        ["Date of discovery", data.discovered_on.isoformat()],
        ["Type of theft or loss", data.loss_type],
        ["Police notified", "yes" if data.police_notified else "no"],
        ["Police department", data.police_department],
        ["Police report number", data.police_report_number],
        ["NDC", data.ndc],
        ["Substance", data.substance],
        ["Product name", data.product_name],
        ["Strength", data.strength],
        ["Dosage form", data.dosage_form],
        ["Container size (mL)", data.container_size_ml],
        ["Lot", data.lot],
        ["Quantity lost (mg)", data.quantity_lost_mg],
        ["Quantity lost (mL)", data.quantity_lost_ml],
        ["Containers lost (fraction of a container)", data.containers_lost],
        ["Description", data.description],
        ["Written notice to DEA within (business days)", data.notice_due_business_days],
        ["Form 106 due by", data.form_due_on.isoformat()],
    ]
