"""Deposits and no-show fees on the staff pages: an appointment's deposit (the card the booking page loads,
and its own page to take one), the receipt, settling a deposit, and charging or waiving a no-show fee. Thin:
parse, call a service or selector, render; a refused write re-renders its form with the reason."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.billing import selectors, services
from ketaclinic.billing.forms import DepositForm, ReasonForm, SettleDepositForm
from ketaclinic.billing.views.common import pdf_response
from ketaclinic.billing.views.staff import work_page
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error


def _back(request: HttpRequest, fallback: str) -> str:
    """Where a form came from (the booking page or the billing page), if it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@never_cache
@login_required
def appointment_deposit(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """An appointment's deposit: taken (with its receipt and what happens to it) or a form to take one. The
    booking page loads the card alone (htmx); the form posts here and goes back where it came from."""
    viewer = actor(request)
    if request.method == "POST":
        require(viewer, Perm.TAKE_DEPOSIT)
    found = selectors.appointment_deposit(viewer=viewer, appointment_id=appointment_id)
    clinic = found.appointment.clinic
    form = DepositForm(
        initial={"amount": found.default_amount, "received_on": clock.today_in(clinic.time_zone)}
    )
    status = 200
    if request.method == "POST":
        form = DepositForm(request.POST)
        if form.is_valid():
            try:
                services.take_deposit(by=viewer, appointment=found.appointment, **form.cleaned_data)
            except DomainError as error:
                field_error(form, error)
            else:
                return redirect(_back(request, request.path))
        status = 400
    template = "billing/appointment_deposit.html"
    if request.headers.get("HX-Request") and request.method == "GET":
        template += "#deposit_card"
    return render(
        request,
        template,
        {
            "found": found,
            "appointment": found.appointment,
            "form": form,
            "can_take": can(viewer, Perm.TAKE_DEPOSIT) and found.takes_deposit,
            "next": request.GET.get("next", ""),
        },
        status=status,
    )


@login_required
def deposit_receipt_pdf(request: HttpRequest, deposit_id: int) -> HttpResponse:
    deposit = selectors.deposit_for(viewer=actor(request), deposit_id=deposit_id)
    return pdf_response(deposit.number, "billing/pdf/deposit_receipt.html", {"deposit": deposit})


@login_required
def my_deposit_receipt_pdf(request: HttpRequest, deposit_id: int) -> HttpResponse:
    deposit = selectors.own_deposit(user=actor(request), deposit_id=deposit_id)
    return pdf_response(deposit.number, "billing/pdf/deposit_receipt.html", {"deposit": deposit})


@require_POST
@login_required
def deposit_settle(request: HttpRequest, deposit_id: int) -> HttpResponse:
    viewer = actor(request)
    require(viewer, Perm.SETTLE_DEPOSIT)
    deposit = selectors.deposit_for(viewer=viewer, deposit_id=deposit_id)
    form = SettleDepositForm(request.POST)
    if form.is_valid():
        try:
            services.settle_deposit(by=viewer, deposit=deposit, **form.cleaned_data)
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect(_back(request, "billing:work"))
    return work_page(request, forms={"settle_form": form, "settle_deposit_id": deposit_id}, status=400)


@require_POST
@login_required
def no_show_fee_charge(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Charge the proposed fee: a draft invoice with the one line, opened for the clerk to issue."""
    viewer = actor(request)
    appointment = selectors.appointment_for_billing(
        viewer=viewer, appointment_id=appointment_id, perm=Perm.DECIDE_NO_SHOW_FEE
    )
    try:
        invoice = services.charge_no_show_fee(by=viewer, appointment=appointment)
    except DomainError as error:
        return work_page(
            request,
            forms={"fee_error": error.message, "fee_appointment_id": appointment_id},
            status=400,
        )
    return redirect("billing:invoice", invoice.pk)


@require_POST
@login_required
def no_show_fee_waive(request: HttpRequest, appointment_id: int) -> HttpResponse:
    viewer = actor(request)
    appointment = selectors.appointment_for_billing(
        viewer=viewer, appointment_id=appointment_id, perm=Perm.DECIDE_NO_SHOW_FEE
    )
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.waive_no_show_fee(by=viewer, appointment=appointment, reason=form.cleaned_data["reason"])
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect(_back(request, "billing:work"))
    return work_page(request, forms={"waive_form": form, "fee_appointment_id": appointment_id}, status=400)
