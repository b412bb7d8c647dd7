"""The ledger's pages. Thin: check the permission, parse the form, call one service or selector, render."""

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import actor, require_any
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.errors import DomainError, ErrorKind
from ketaclinic.core.forms import field_error
from ketaclinic.core.inputs import parse_id
from ketaclinic.core.models import Clinic
from ketaclinic.inventory.forms import (
    CountForm,
    DrawForm,
    LedgerFilterForm,
    LocationForm,
    ProductForm,
    ReceiptForm,
    RemovalForm,
    ResolutionForm,
    TransferForm,
    WasteForm,
    WitnessForm,
)
from ketaclinic.inventory.models import (
    BusinessTime,
    CountPurpose,
    LossType,
    RemovalReason,
    ResolutionKind,
    Schedule,
    WasteMethod,
)
from ketaclinic.inventory.selectors import custody
from ketaclinic.inventory.selectors import stock as selectors
from ketaclinic.inventory.services import chain, counts, draws, stock, witness
from ketaclinic.inventory.services.witness import SignedWitness
from ketaclinic.protocols.selectors import protocol_int

LEDGER_PAGE_SIZE = 50


def _require(request: HttpRequest, *perms: Perm) -> None:
    require_any(actor(request), *perms)


def _clinic(request: HttpRequest) -> Clinic:
    return selectors.clinic_for(viewer=request.user, clinic_id=request.GET.get("clinic"))


def _witnessed[T](
    request: HttpRequest, form: WitnessForm, clinic: Clinic, action: Callable[[SignedWitness], T]
) -> T | None:
    """Check the witness's sign-in, then run the action; domain errors become field errors."""
    try:
        signed = witness.verify_witness(
            by=actor(request), clinic=clinic, credentials=form.witness_credentials(), request=request
        )
        return action(signed)
    except DomainError as error:
        field_error(form, error)
        return None


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], clinic: Clinic | None = None
) -> HttpResponse:
    """Render with times shown in the clinic's time zone (the viewer's first clinic when none is given)."""
    shown_in = clinic or selectors.clinic_for(viewer=request.user)
    with timezone.override(ZoneInfo(shown_in.time_zone)):
        return render(request, template, context)


def _perms(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "can_manage": can(user, Perm.MANAGE_STOCK),
        "can_draw": can(user, Perm.DRAW_STOCK),
        "can_count": can(user, Perm.COUNT_STOCK),
        "can_resolve": can(user, Perm.RESOLVE_DISCREPANCY),
        "can_report": can(user, Perm.VIEW_STOCK_REPORTS),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.VIEW_STOCK)
    clinic = _clinic(request)
    context = {
        "board": selectors.dashboard(viewer=request.user, clinic=clinic),
        "chain": custody.chain_status(viewer=request.user, clinic=clinic),
        "counts_due": custody.counts_due(viewer=request.user, clinic=clinic),
        **_perms(request),
    }
    return _render(request, "inventory/dashboard.html", context, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def products(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.VIEW_STOCK)
    clinic = _clinic(request)
    form = ProductForm(request.POST or None, initial={"schedule": Schedule.III, "multi_dose": True})
    if request.method == "POST":
        require_any(request.user, Perm.MANAGE_STOCK)
        if form.is_valid():
            data = form.cleaned_data
            try:
                product = stock.add_product(
                    by=actor(request),
                    clinic=clinic,
                    name=data["name"],
                    substance=data["substance"],
                    schedule=Schedule(data["schedule"]),
                    ndc=data["ndc"],
                    concentration_mg_per_ml=data["concentration_mg_per_ml"],
                    vial_volume_ml=data["vial_volume_ml"],
                    multi_dose=data["multi_dose"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, f"{product} added.")
                return redirect("inventory:products")
    context = {
        "products": selectors.products_for(viewer=request.user, clinic=clinic),
        "form": form,
        **_perms(request),
    }
    return _render(request, "inventory/products.html", context, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def locations(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.VIEW_STOCK)
    clinic = _clinic(request)
    form = LocationForm(request.POST or None)
    if request.method == "POST":
        require_any(request.user, Perm.MANAGE_STOCK)
        if form.is_valid():
            try:
                location = stock.add_location(
                    by=actor(request),
                    clinic=clinic,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, f"{location.name} added.")
                return redirect("inventory:locations")
    context = {
        "locations": selectors.locations_for(viewer=request.user, clinic=clinic),
        "form": form,
        **_perms(request),
    }
    return _render(request, "inventory/locations.html", context, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.MANAGE_STOCK)
    clinic = _clinic(request)
    products_available = selectors.products_for(viewer=request.user, clinic=clinic).filter(is_active=True)
    form = ReceiptForm(
        request.POST or None,
        products=products_available,
        locations=selectors.locations_for(viewer=request.user, clinic=clinic).filter(is_active=True),
        initial={"received_on": selectors.today_at(clinic)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        receipt = _witnessed(
            request,
            form,
            clinic,
            lambda signed: stock.receive_delivery(
                by=actor(request),
                clinic=clinic,
                product=data["product"],
                ndc=data["ndc"],
                lot=data["lot"],
                expires_on=data["expires_on"],
                vial_count=data["vial_count"],
                invoice_number=data["invoice_number"],
                supplier_name=data["supplier_name"],
                supplier_address=data["supplier_address"],
                supplier_dea_number=data["supplier_dea_number"],
                location=data["location"],
                received_on=data["received_on"],
                witness=signed,
                note=data["note"],
            ),
        )
        if receipt is not None:
            messages.success(
                request, f"Received {receipt.vial_count} vials of {receipt.product}, lot {receipt.lot}."
            )
            return redirect("inventory:dashboard")
    return _render(request, "inventory/receive.html", {"form": form, "products": products_available}, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.MANAGE_STOCK)
    clinic = _clinic(request)
    form = TransferForm(
        request.POST or None,
        vials=selectors.vials_in_stock(viewer=request.user, clinic=clinic),
        locations=selectors.locations_for(viewer=request.user, clinic=clinic).filter(is_active=True),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        moved = _witnessed(
            request,
            form,
            clinic,
            lambda signed: stock.transfer_vials(
                by=actor(request),
                clinic=clinic,
                vial_ids=[vial.pk for vial in data["vials"]],
                to_location=data["to_location"],
                witness=signed,
            ),
        )
        if moved is not None:
            messages.success(request, f"Moved {len(moved)} vial(s) to {data['to_location'].name}.")
            return redirect("inventory:dashboard")
    return _render(request, "inventory/transfer.html", {"form": form}, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def draw(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.DRAW_STOCK)
    clinic = _clinic(request)
    form = DrawForm(
        request.POST or None,
        vials=selectors.vials_in_stock(viewer=request.user, clinic=clinic),
        # A link from a visit fills in its patient, dose order and the order's dose (what the syringe holds).
        initial={
            "patient_record_number": request.GET.get("patient", ""),
            "dose_order_id": request.GET.get("dose_order", ""),
            "amount_mg": request.GET.get("amount_mg", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient = selectors.patient_by_record_number(
                viewer=request.user, clinic=clinic, record_number=data["patient_record_number"]
            )
            entry = draws.draw_from_vial(
                by=actor(request),
                vial_id=data["vial"].pk,
                amount_mg=data["amount_mg"],
                patient=patient,
                dose_order_id=data["dose_order_id"],
            )
        except DomainError as error:
            if error.kind == ErrorKind.NOT_FOUND:
                form.add_error("patient_record_number", error.message)
            else:
                field_error(form, error)
        else:
            messages.success(
                request,
                f"Drew {entry.amount_mg.normalize():f} mg ({entry.amount_ml.normalize():f} mL) from "
                f"{data['vial'].label} for {patient.display_name}.",
            )
            return redirect("inventory:waste")
    return _render(request, "inventory/draw.html", {"form": form}, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def waste(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.DRAW_STOCK)
    clinic = _clinic(request)
    open_draws = selectors.open_draws(viewer=request.user, clinic=clinic)
    form = WasteForm(
        request.POST or None,
        open_draws=open_draws,
        initial={
            "amount_mg": open_draws[0].remaining_mg if open_draws else None,
            "method": WasteMethod.DENATURING_CONTAINER,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = _witnessed(
            request,
            form,
            clinic,
            lambda signed: draws.record_waste(
                by=actor(request),
                draw_id=data["draw"],
                amount_mg=data["amount_mg"],
                method=WasteMethod(data["method"]),
                reason=data["reason"],
                witness=signed,
            ),
        )
        if entry is not None:
            messages.success(request, f"Wasted {entry.amount_mg.normalize():f} mg, witnessed.")
            return redirect("inventory:waste")
    return _render(request, "inventory/waste.html", {"form": form, "open_draws": open_draws}, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.MANAGE_STOCK)
    clinic = _clinic(request)
    form = RemovalForm(
        request.POST or None,
        vials=selectors.vials_in_stock(viewer=request.user, clinic=clinic),
        initial={"method": WasteMethod.REVERSE_DISTRIBUTOR, "reason": RemovalReason.EXPIRED},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = _witnessed(
            request,
            form,
            clinic,
            lambda signed: stock.remove_vial(
                by=actor(request),
                clinic=clinic,
                vial_id=data["vial"].pk,
                reason=RemovalReason(data["reason"]),
                method=WasteMethod(data["method"]),
                note=data["note"],
                witness=signed,
            ),
        )
        if entry is not None:
            messages.success(request, f"{data['vial'].label} removed from stock.")
            return redirect("inventory:dashboard")
    return _render(request, "inventory/remove.html", {"form": form}, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def count_new(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.COUNT_STOCK)
    clinic = _clinic(request)
    all_locations = selectors.locations_for(viewer=request.user, clinic=clinic)
    location_id = parse_id(request.GET.get("location"))
    location = (
        selectors.location_for(viewer=request.user, location_id=location_id)
        if location_id is not None
        else None
    )
    vials = counts.vials_to_count(clinic=clinic, location=location)
    form = CountForm(
        request.POST or None,
        vials=vials,
        initial={"purpose": CountPurpose.END_OF_DAY, "business_time": BusinessTime.CLOSE},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        count = _witnessed(
            request,
            form,
            clinic,
            lambda signed: counts.record_count(
                by=actor(request),
                clinic=clinic,
                location=location,
                purpose=CountPurpose(data["purpose"]),
                business_time=BusinessTime(data["business_time"]),
                counted_ml=form.counted_ml(),
                witness=signed,
                note=data["note"],
            ),
        )
        if count is not None:
            result = custody.count_result(viewer=request.user, count_id=count.pk)
            # A shortfall is never announced in green: the message is an error until it is resolved.
            (messages.success if result.matches else messages.error)(request, result.summary)
            return redirect("inventory:count_detail", count_id=count.pk)
    context = {"form": form, "locations": all_locations, "location": location}
    return _render(request, "inventory/count_form.html", context, clinic)


@login_required
def count_list(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    clinic = _clinic(request)
    page = Paginator(selectors.counts_for(viewer=request.user, clinic=clinic), 25).get_page(
        request.GET.get("page")
    )
    return _render(request, "inventory/count_list.html", {"page_obj": page, **_perms(request)}, clinic)


@login_required
def count_detail(request: HttpRequest, count_id: int) -> HttpResponse:
    result = custody.count_result(viewer=request.user, count_id=count_id)
    context = {"result": result, "count": result.count, **_perms(request)}
    return _render(request, "inventory/count_detail.html", context, result.count.clinic)


@login_required
def discrepancy_list(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    clinic = _clinic(request)
    page = Paginator(selectors.discrepancies_for(viewer=request.user, clinic=clinic), 25).get_page(
        request.GET.get("page")
    )
    return _render(request, "inventory/discrepancy_list.html", {"page_obj": page}, clinic)


@login_required
@require_http_methods(["GET", "POST"])
def discrepancy_detail(request: HttpRequest, discrepancy_id: int) -> HttpResponse:
    discrepancy = selectors.discrepancy_for(viewer=request.user, discrepancy_id=discrepancy_id)
    resolved = selectors.has_resolution(discrepancy)
    form = ResolutionForm(request.POST or None)
    if request.method == "POST":
        require_any(request.user, Perm.RESOLVE_DISCREPANCY)
        if form.is_valid():
            data = form.cleaned_data
            try:
                counts.resolve_discrepancy(
                    by=actor(request),
                    discrepancy=discrepancy,
                    kind=ResolutionKind(data["kind"]),
                    reason=data["reason"],
                    loss_type=LossType(data["loss_type"]) if data["loss_type"] else None,
                    police_notified=data["police_notified"],
                    police_department=data["police_department"],
                    police_report_number=data["police_report_number"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, "Discrepancy resolved.")
                return redirect("inventory:discrepancy_detail", discrepancy_id=discrepancy.pk)
    context = {
        "discrepancy": discrepancy,
        "resolved": resolved,
        "resolution": discrepancy.resolution if resolved else None,
        "is_theft": resolved and discrepancy.resolution.kind == ResolutionKind.THEFT_OR_LOSS,
        "form": form,
        "notice_business_days": protocol_int("cs_theft_notice_business_days"),
        "form_106_days": protocol_int("cs_form_106_due_calendar_days"),
        **_perms(request),
    }
    return _render(request, "inventory/discrepancy_detail.html", context, discrepancy.clinic)


@login_required
def vial_detail(request: HttpRequest, vial_id: int) -> HttpResponse:
    vial = selectors.vial_for(viewer=request.user, vial_id=vial_id)
    entries = selectors.vial_entries(viewer=request.user, vial=vial)
    return _render(request, "inventory/vial_detail.html", {"vial": vial, "entries": entries}, vial.clinic)


@login_required
def ledger(request: HttpRequest, product_id: int) -> HttpResponse:
    """One drug's ledger, newest first, with signed quantities, filters and a printable layout; its chain is
    verified on every load, so the badge is never older than the page."""
    product = selectors.product_for(viewer=request.user, product_id=product_id)
    filter_form = LedgerFilterForm(request.GET or None)
    filters = filter_form.filters()
    entries = custody.filtered_entries(
        viewer=request.user, product=product, filters=filters, zone=product.clinic.time_zone
    )
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.audit_patients_shown(
        request.user, (entry.patient for entry in page), ObjectType.CONTROLLED_DRUG_ENTRY
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "product": product,
        "products": selectors.products_for(viewer=request.user, clinic=product.clinic),
        "filter_form": filter_form,
        "filtered": filters.active,
        "page_query": query.urlencode(),
        "page_obj": page,
        "report": selectors.product_chain(viewer=request.user, product=product),
        **_perms(request),
    }
    return _render(request, "inventory/ledger.html", context, product.clinic)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    clinic = _clinic(request)
    if request.method == "POST":
        report, check = chain.verify_ledger(by=actor(request))
        if report.intact and not check.vials_out_of_balance:
            messages.success(
                request, f"All {report.entries_checked} entries verified: the chains are intact."
            )
        else:
            messages.error(request, "The ledger has been tampered with: see the first bad link below.")
        return redirect(reverse("inventory:verify"))
    context = {"status": custody.chain_status(viewer=request.user, clinic=clinic)}
    return _render(request, "inventory/verify.html", context, clinic)
