"""The billing clerk's pages: the work page, price list and settings, a patient's account, estimates,
invoices, payments, refunds, packages, receivables and reports. Thin: parse, call a service or selector,
render; a refused write re-renders its form with the reason."""

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.billing import selectors, services
from ketaclinic.billing.forms import (
    AcknowledgeForm,
    EstimateForm,
    InvoiceForm,
    PaymentForm,
    PriceForm,
    ReasonForm,
    RefundForm,
    SettingsForm,
    SettleDepositForm,
)
from ketaclinic.billing.models import Invoice, PackageCredit, Payment, ServiceKey
from ketaclinic.billing.rules import AGING_ORDER, InvoiceStatus
from ketaclinic.billing.services import InvoiceRequest
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error


def _today(clinic: Any) -> dt.date:
    return clock.today_in(clinic.time_zone)


def work_page(
    request: HttpRequest, *, forms: dict[str, object] | None = None, status: int = 200
) -> HttpResponse:
    """The work page, with a refused deposit or fee form (and its row) when one is given."""
    viewer = actor(request)
    summary = selectors.work_summary(viewer=viewer, clinic_id=request.GET.get("clinic"))
    deposits = selectors.deposit_work(viewer=viewer, clinic_id=request.GET.get("clinic"))
    context: dict[str, object] = {
        "summary": summary,
        "deposits": deposits,
        "can_estimate": can(viewer, Perm.ISSUE_ESTIMATE),
        "can_reports": can(viewer, Perm.VIEW_BILLING_REPORTS),
        "can_decide_fee": can(viewer, Perm.DECIDE_NO_SHOW_FEE),
        "can_settle": can(viewer, Perm.SETTLE_DEPOSIT),
        "waive_form": ReasonForm(),
        "settle_form": SettleDepositForm(),
    }
    context.update(forms or {})
    return render(request, "billing/work.html", context, status=status)


@never_cache
@login_required
def work(request: HttpRequest) -> HttpResponse:
    """What is due: visits delivered and not invoiced, estimates due, drafts, balances past due, no-show fees
    to decide and deposits to settle."""
    return work_page(request)


@never_cache
@login_required
def price_list(request: HttpRequest) -> HttpResponse:
    viewer = actor(request)
    clinic = selectors.billing_clinic(viewer=viewer, clinic_id=request.GET.get("clinic"))
    can_manage = can(viewer, Perm.MANAGE_PRICE_LIST)
    form = PriceForm(initial={"effective_from": _today(clinic)})
    settings = selectors.clinic_billing(clinic)
    settings_form = SettingsForm(initial=settings.__dict__)
    if request.method == "POST":
        require(viewer, Perm.MANAGE_PRICE_LIST)
        if "save_settings" in request.POST:
            settings_form = SettingsForm(request.POST)
            if settings_form.is_valid():
                try:
                    services.change_billing_settings(by=viewer, clinic=clinic, **settings_form.cleaned_data)
                except DomainError as error:
                    field_error(settings_form, error)
                else:
                    return redirect("billing:prices")
        else:
            form = PriceForm(request.POST)
            if form.is_valid():
                try:
                    services.set_price(by=viewer, clinic=clinic, **form.cleaned_data)
                except DomainError as error:
                    field_error(form, error)
                else:
                    return redirect("billing:prices")
    in_force, history = selectors.price_list(clinic, _today(clinic))
    return render(
        request,
        "billing/prices.html",
        {
            "clinic": clinic,
            "in_force": in_force,
            "history": history,
            "settings": settings,
            "form": form,
            "settings_form": settings_form,
            "can_manage": can_manage,
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@login_required
def patient_account(request: HttpRequest, patient_id: int) -> HttpResponse:
    viewer = actor(request)
    account = selectors.patient_account(viewer=viewer, patient_id=patient_id)
    clinic = account.patient.clinic
    package = selectors.prices_in_force(clinic, _today(clinic)).get(ServiceKey.INDUCTION_SERIES)
    return render(
        request,
        "billing/patient.html",
        {
            "account": account,
            "patient": account.patient,
            "package_price": package,
            "can_estimate": can(viewer, Perm.ISSUE_ESTIMATE),
            "can_invoice": can(viewer, Perm.ISSUE_INVOICE),
            "can_void": can(viewer, Perm.VOID_INVOICE),
            "can_decide_fee": can(viewer, Perm.DECIDE_NO_SHOW_FEE),
            "can_settle": can(viewer, Perm.SETTLE_DEPOSIT),
            "deposits": selectors.patient_deposits_and_fees(account.patient),
            "today": _today(clinic),
        },
    )


@never_cache
@login_required
def estimate_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    viewer = actor(request)
    patient = selectors.billing_patient(viewer=viewer, patient_id=patient_id, perm=Perm.ISSUE_ESTIMATE)
    form = EstimateForm(initial={"scheduled_on": _today(patient.clinic)})
    status = 200
    if request.method == "POST":
        form = EstimateForm(request.POST)
        if form.is_valid():
            try:
                estimate = services.create_estimate(by=viewer, patient=patient, **form.cleaned_data)
            except DomainError as error:
                field_error(form, error)
            else:
                return redirect("billing:estimate", estimate.pk)
        status = 400
    return render(request, "billing/estimate_new.html", {"patient": patient, "form": form}, status=status)


@never_cache
@login_required
def estimate_detail(request: HttpRequest, estimate_id: int) -> HttpResponse:
    viewer = actor(request)
    if request.method == "POST":
        require(viewer, Perm.ISSUE_ESTIMATE)
    estimate = selectors.estimate_for(viewer=viewer, estimate_id=estimate_id)
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
                return redirect("billing:estimate", estimate.pk)
        status = 400
    return render(
        request,
        "billing/estimate.html",
        {
            "estimate": estimate,
            "check": selectors.estimate_check(estimate),
            "form": form,
            "acknowledged": hasattr(estimate, "acknowledgement"),
            "threshold": selectors.dispute_threshold(),
            "dispute_days": selectors.dispute_window_days(),
            "can_acknowledge": can(viewer, Perm.ISSUE_ESTIMATE),
            "pdf_url": "billing:estimate_pdf",
        },
        status=status,
    )


def _invoice_choices(
    facts: list[selectors.VisitFacts],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[Any]]:
    charges = selectors.proposed_charges(facts)
    by_visit: dict[int, list[selectors.ProposedCharge]] = defaultdict(list)
    for charge in charges:
        by_visit[charge.visit_id].append(charge)
    visits = [(str(f.visit.pk), f"{f.service_on:%d %b %Y} · infusion {f.running_min} min") for f in facts]
    lines = [(c.key, f"{c.code} {c.label}") for c in charges]
    rows = [{"facts": f, "charges": by_visit[f.visit.pk]} for f in facts]
    return visits, lines, rows


@never_cache
@login_required
def invoice_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Invoice from visits: the visits delivered and not invoiced, each with the lines it supports; the clerk
    keeps or leaves out lines and may give a sliding-scale discount."""
    viewer = actor(request)
    patient = selectors.billing_patient(viewer=viewer, patient_id=patient_id, perm=Perm.ISSUE_INVOICE)
    facts = selectors.not_invoiced(
        list(selectors.delivered_visits(clinic=patient.clinic, patient_id=patient.pk))
    )
    visit_choices, line_choices, rows = _invoice_choices(facts)
    initial = {"visits": [v for v, _ in visit_choices], "lines": [k for k, _ in line_choices]}
    form = InvoiceForm(initial=initial, visit_choices=visit_choices, line_choices=line_choices)
    status = 200
    if request.method == "POST":
        form = InvoiceForm(request.POST, visit_choices=visit_choices, line_choices=line_choices)
        if form.is_valid():
            kept = set(form.cleaned_data["lines"])
            try:
                invoice = services.create_invoice(
                    by=viewer,
                    patient=patient,
                    request=InvoiceRequest(
                        visit_ids=[int(v) for v in form.cleaned_data["visits"]],
                        excluded=frozenset(k for k, _ in line_choices if k not in kept),
                        sliding_scale_percent=form.cleaned_data["sliding_scale_percent"],
                    ),
                )
            except DomainError as error:
                field_error(form, error)
            else:
                return redirect("billing:invoice", invoice.pk)
        status = 400
    return render(
        request, "billing/invoice_new.html", {"patient": patient, "form": form, "rows": rows}, status=status
    )


@require_POST
@login_required
def package_sell(request: HttpRequest, patient_id: int) -> HttpResponse:
    viewer = actor(request)
    patient = selectors.billing_patient(viewer=viewer, patient_id=patient_id, perm=Perm.ISSUE_INVOICE)
    item = selectors.price_item_for(viewer=viewer, price_item_id=int(request.POST.get("price_item") or 0))
    invoice = services.sell_package(by=viewer, patient=patient, price_item=item)
    return redirect("billing:invoice", invoice.pk)


def _invoice_page(
    request: HttpRequest, invoice_id: int, *, forms: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    viewer = actor(request)
    detail = selectors.invoice_detail(viewer=viewer, invoice_id=invoice_id)
    today = _today(detail.invoice.clinic)
    context = {
        "detail": detail,
        "invoice": detail.invoice,
        "patient": detail.invoice.patient,
        "payment_form": PaymentForm(initial={"received_on": today, "amount": detail.summary.balance}),
        "void_form": ReasonForm(),
        "refund_form": RefundForm(),
        "can_issue": can(viewer, Perm.ISSUE_INVOICE),
        "can_pay": can(viewer, Perm.RECORD_PAYMENT),
        "can_void": can(viewer, Perm.VOID_INVOICE),
        "takes_payment": can(viewer, Perm.RECORD_PAYMENT) and detail.summary.balance > 0,
        "voidable": can(viewer, Perm.VOID_INVOICE) and detail.summary.status is not InvoiceStatus.VOID,
        "issuable": can(viewer, Perm.ISSUE_INVOICE) and detail.summary.status is InvoiceStatus.DRAFT,
        "paid_receipt": request.GET.get("paid", ""),
    }
    context.update(forms or {})
    return render(request, "billing/invoice.html", context, status=status)


@never_cache
@login_required
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _invoice_page(request, invoice_id)


def _invoice(viewer: Who, invoice_id: int) -> Invoice:
    return selectors.invoice_detail(viewer=viewer, invoice_id=invoice_id).invoice


@require_POST
@login_required
def invoice_issue(request: HttpRequest, invoice_id: int) -> HttpResponse:
    viewer = actor(request)
    require(viewer, Perm.ISSUE_INVOICE)
    services.issue_invoice(by=viewer, invoice=_invoice(viewer, invoice_id))
    return redirect("billing:invoice", invoice_id)


@require_POST
@login_required
def invoice_void(request: HttpRequest, invoice_id: int) -> HttpResponse:
    viewer = actor(request)
    require(viewer, Perm.VOID_INVOICE)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.void_invoice(
                by=viewer, invoice=_invoice(viewer, invoice_id), reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("billing:invoice", invoice_id)
    return _invoice_page(request, invoice_id, forms={"void_form": form}, status=400)


@require_POST
@login_required
def payment_record(request: HttpRequest, invoice_id: int) -> HttpResponse:
    viewer = actor(request)
    require(viewer, Perm.RECORD_PAYMENT)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = services.record_payment(
                by=viewer, invoice=_invoice(viewer, invoice_id), **form.cleaned_data
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect(reverse("billing:invoice", args=[invoice_id]) + f"?paid={payment.pk}")
    return _invoice_page(request, invoice_id, forms={"payment_form": form}, status=400)


@require_POST
@login_required
def payment_refund(request: HttpRequest, payment_id: int) -> HttpResponse:
    viewer = actor(request)
    require(viewer, Perm.VOID_INVOICE)
    payment: Payment = selectors.payment_for(viewer=viewer, payment_id=payment_id)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            services.refund_payment(by=viewer, payment=payment, **form.cleaned_data)
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("billing:invoice", payment.invoice_id)
    return _invoice_page(request, payment.invoice_id, forms={"refund_form": form}, status=400)


@require_POST
@login_required
def package_cancel(request: HttpRequest, package_id: int) -> HttpResponse:
    viewer = actor(request)
    require(viewer, Perm.VOID_INVOICE)
    package: PackageCredit = selectors.package_for(viewer=viewer, package_id=package_id)
    # A refused cancellation (no reason, already cancelled) is shown on the error page with its reason.
    services.cancel_package(by=viewer, package=package, reason=request.POST.get("reason", ""))
    return redirect("billing:patient", package.patient_id)


@never_cache
@login_required
def receivables(request: HttpRequest) -> HttpResponse:
    viewer = actor(request)
    found = selectors.receivables(viewer=viewer, clinic_id=request.GET.get("clinic"))
    return render(request, "billing/receivables.html", {"found": found, "buckets": AGING_ORDER})


@never_cache
@login_required
def reports(request: HttpRequest) -> HttpResponse:
    viewer = actor(request)
    require(viewer, Perm.VIEW_BILLING_REPORTS)
    year = int(request.GET["year"]) if request.GET.get("year", "").isdigit() else clock.now().year
    report = selectors.revenue_report(viewer=viewer, year=year, clinic_id=request.GET.get("clinic"))
    found = selectors.receivables(viewer=viewer, clinic_id=request.GET.get("clinic"))
    return render(
        request,
        "billing/reports.html",
        {"report": report, "found": found, "buckets": AGING_ORDER, "year": year},
    )
