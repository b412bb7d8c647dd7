"""Billing documents as PDF (estimate, invoice, receipt, superbill, statement) and the CSV exports, for
staff and for a patient or guardian reading their own (`/billing/my/...`)."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.billing import selectors, services
from ketaclinic.billing.forms import AcknowledgeForm, PeriodForm
from ketaclinic.billing.rules import AGING_ORDER, AgingBucket
from ketaclinic.billing.views.common import csv_response, pdf_response, query_date
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error


def _insured(request: HttpRequest) -> selectors.Insured:
    return selectors.Insured(
        name=request.GET.get("insured_name", "")[:150],
        insurer=request.GET.get("insurer", "")[:150],
        member_id=request.GET.get("member_id", "")[:60],
    )


def _visit(request: HttpRequest) -> int | None:
    raw = request.GET.get("visit", "")
    return int(raw) if raw.isdigit() else None


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = clock.now().date()
    return query_date(request.GET.get("start"), today.replace(day=1)), query_date(
        request.GET.get("end"), today
    )


def _estimate_context(estimate: object) -> dict[str, object]:
    return {
        "estimate": estimate,
        "threshold": selectors.dispute_threshold(),
        "dispute_days": selectors.dispute_window_days(),
    }


# Staff ------------------------------------------------------------------------------------------------------


@login_required
def estimate_pdf(request: HttpRequest, estimate_id: int) -> HttpResponse:
    estimate = selectors.estimate_for(viewer=actor(request), estimate_id=estimate_id)
    return pdf_response(estimate.number, "billing/pdf/estimate.html", _estimate_context(estimate))


@login_required
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    detail = selectors.invoice_detail(viewer=actor(request), invoice_id=invoice_id)
    return pdf_response(detail.invoice.number, "billing/pdf/invoice.html", {"detail": detail})


@login_required
def receipt_pdf(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = selectors.payment_for(viewer=actor(request), payment_id=payment_id)
    return pdf_response(payment.number, "billing/pdf/receipt.html", {"payment": payment})


@never_cache
@login_required
def superbill_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The superbill form: a period (or one visit) and the insured as the patient gives them."""
    viewer = actor(request)
    patient = selectors.billing_patient(viewer=viewer, patient_id=patient_id)
    start, end = _period(request)
    form = PeriodForm(initial={"start": start, "end": end, "visit": _visit(request)})
    return render(request, "billing/superbill.html", {"patient": patient, "form": form})


@login_required
def superbill_pdf(request: HttpRequest, patient_id: int) -> HttpResponse:
    start, end = _period(request)
    bill = selectors.superbill(
        viewer=actor(request),
        patient_id=patient_id,
        start=start,
        end=end,
        visit_id=_visit(request),
        insured=_insured(request),
    )
    return pdf_response(
        f"superbill-{bill.patient.record_number}-{bill.start}", "billing/pdf/superbill.html", {"bill": bill}
    )


@login_required
def statement_pdf(request: HttpRequest, patient_id: int) -> HttpResponse:
    account = selectors.patient_account(viewer=actor(request), patient_id=patient_id)
    return pdf_response(
        f"statement-{account.patient.record_number}",
        "billing/pdf/statement.html",
        {"account": account, "today": clock.today_in(account.patient.clinic.time_zone)},
    )


@login_required
def receivables_csv(request: HttpRequest) -> HttpResponse:
    viewer = actor(request)
    found = selectors.receivables(viewer=viewer, clinic_id=request.GET.get("clinic"))
    record_read(
        by=viewer,
        action=Action.EXPORT,
        object_type=ObjectType.RECEIVABLES,
        clinic_id=found.clinic.pk,
        summary="CSV",
    )
    headings = [
        f"{bucket.value} days" if bucket != AgingBucket.CURRENT else "Current" for bucket in AGING_ORDER
    ]
    rows: list[list[object]] = [["Record number", "Patient", *headings, "Total"]]
    for row in found.rows:
        rows.append(
            [
                row.patient.record_number,
                row.patient.display_name,
                *[row.buckets[b] for b in AGING_ORDER],
                row.total,
            ]
        )
    rows.append(["", "Total", *[found.totals[b] for b in AGING_ORDER], found.total])
    return csv_response(f"receivables-{found.today}", rows)


@login_required
def revenue_csv(request: HttpRequest) -> HttpResponse:
    viewer = actor(request)
    require(viewer, Perm.VIEW_BILLING_REPORTS)
    year = int(request.GET["year"]) if request.GET.get("year", "").isdigit() else clock.now().year
    report = selectors.revenue_report(viewer=viewer, year=year, clinic_id=request.GET.get("clinic"))
    record_read(
        by=viewer,
        action=Action.EXPORT,
        object_type=ObjectType.BILLING_REVENUE_REPORT,
        object_id=year,
        clinic_id=report.clinic.pk,
        summary="CSV",
    )
    rows: list[list[object]] = [["Month", "Service", "Code", "Units", "Amount"]]
    rows += [[row.month, row.service, row.code, row.units, row.amount] for row in report.rows]
    rows.append(["Total", "", "", "", report.total])
    return csv_response(f"revenue-{year}", rows)


# A patient's or guardian's own documents ------------------------------------------------------------------


@never_cache
@login_required
def my_documents(request: HttpRequest) -> HttpResponse:
    records = selectors.own_documents(user=actor(request))
    return render(request, "billing/my.html", {"records": records})


@never_cache
@login_required
def my_estimate(request: HttpRequest, estimate_id: int) -> HttpResponse:
    """A patient's own estimate, with the acknowledgement the No Surprises Act asks for."""
    viewer = actor(request)
    estimate = selectors.own_estimate(user=viewer, estimate_id=estimate_id)
    form = AcknowledgeForm()
    status = 200
    if request.method == "POST":
        form = AcknowledgeForm(request.POST)
        if form.is_valid():
            try:
                services.acknowledge_estimate(
                    by=viewer, estimate=estimate, signer_name=form.cleaned_data["signer_name"]
                )
            except DomainError as error:
                field_error(form, error)
            else:
                return redirect("billing:my_estimate", estimate.pk)
        status = 400
    return render(
        request,
        "billing/estimate.html",
        {
            "estimate": estimate,
            "check": None,
            "form": form,
            "acknowledged": hasattr(estimate, "acknowledgement"),
            "threshold": selectors.dispute_threshold(),
            "dispute_days": selectors.dispute_window_days(),
            "can_acknowledge": True,
            "pdf_url": "billing:my_estimate_pdf",
            "own": True,
        },
        status=status,
    )


@login_required
def my_estimate_pdf(request: HttpRequest, estimate_id: int) -> HttpResponse:
    estimate = selectors.own_estimate(user=actor(request), estimate_id=estimate_id)
    return pdf_response(estimate.number, "billing/pdf/estimate.html", _estimate_context(estimate))


@login_required
def my_invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    detail = selectors.own_invoice(user=actor(request), invoice_id=invoice_id)
    return pdf_response(detail.invoice.number, "billing/pdf/invoice.html", {"detail": detail})


@login_required
def my_receipt_pdf(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = selectors.own_payment(user=actor(request), payment_id=payment_id)
    return pdf_response(payment.number, "billing/pdf/receipt.html", {"payment": payment})


@login_required
def my_superbill_pdf(request: HttpRequest, patient_id: int) -> HttpResponse:
    start, end = _period(request)
    bill = selectors.own_superbill(
        user=actor(request),
        patient_id=patient_id,
        start=start,
        end=end,
        visit_id=_visit(request),
        insured=_insured(request),
    )
    return pdf_response(
        f"superbill-{bill.patient.record_number}-{bill.start}", "billing/pdf/superbill.html", {"bill": bill}
    )
