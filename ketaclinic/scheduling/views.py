"""Schedule pages: the day per chair (the front desk's main screen), per person, the week, a patient's visits,
booking one visit or a series, the day's actions, the patient's confirmation link, and resources."""

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import Role
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, NotFound
from ketaclinic.core.formats import format_moment
from ketaclinic.core.forms import field_error
from ketaclinic.core.inputs import parse_id
from ketaclinic.patients import selectors as patient_selectors
from ketaclinic.scheduling import rules, selectors, services
from ketaclinic.scheduling.forms import (
    BookAppointmentForm,
    ChairForm,
    ClosureForm,
    MoveAppointmentForm,
    ReasonForm,
    SeriesSlotFormSet,
    SeriesStartForm,
    SlotPatientForm,
    StaffHoursForm,
)
from ketaclinic.scheduling.models import AppointmentKind, Chair, Closure, StaffHours


def _day_from(request: HttpRequest, zone: str) -> dt.date:
    """?date=YYYY-MM-DD, else today in the clinic (a malformed date shows today rather than failing)."""
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return clock.today_in(zone)


def _clinic(request: HttpRequest) -> Any:
    return selectors.clinic_for(viewer=request.user, clinic_id=parse_id(request.GET.get("clinic")))


def _grid_context(request: HttpRequest, clinic: Any, grid: selectors.CalendarGrid) -> dict[str, Any]:
    return {
        "grid": grid,
        "clinic": clinic,
        "can_book": can(request.user, Perm.BOOK_APPOINTMENT),
        "can_manage": can(request.user, Perm.MANAGE_RESOURCES),
        "today": clock.today_in(clinic.time_zone),
    }


@login_required
def day(request: HttpRequest) -> HttpResponse:
    """The day as a grid: a column per chair (?by=chair, the default) or per clinician and nurse
    (?by=person), a row per half hour, open slots linking to the booking page."""
    clinic = _clinic(request)
    on = _day_from(request, clinic.time_zone)
    by_person = request.GET.get("by") == "person"
    staff = selectors.staff_on_schedule(viewer=request.user, clinic=clinic)
    grid = selectors.calendar_grid(
        viewer=request.user, clinic=clinic, days=[on], people=list(staff) if by_person else None
    )
    context = _grid_context(request, clinic, grid) | {
        "day": on,
        "previous_day": on - dt.timedelta(days=1),
        "next_day": on + dt.timedelta(days=1),
        "by_person": by_person,
        "staff": staff,
    }
    return render(request, "scheduling/day.html", context)


@login_required
def staff_day(request: HttpRequest, user_id: int) -> HttpResponse:
    """One clinician's or nurse's day as a single-column grid."""
    clinic = _clinic(request)
    person = selectors.staff_on_schedule(viewer=request.user, clinic=clinic).filter(pk=user_id).first()
    if person is None:
        raise NotFound("No such clinician or nurse at this clinic.")
    on = _day_from(request, clinic.time_zone)
    grid = selectors.calendar_grid(viewer=request.user, clinic=clinic, days=[on], people=[person])
    context = _grid_context(request, clinic, grid) | {
        "day": on,
        "previous_day": on - dt.timedelta(days=1),
        "next_day": on + dt.timedelta(days=1),
        "person": person,
    }
    return render(request, "scheduling/staff_day.html", context)


@login_required
def week(request: HttpRequest) -> HttpResponse:
    """Monday to Sunday as a grid for one chair (?chair=, the first by default) or one person (?person=)."""
    clinic = _clinic(request)
    day_in_week = _day_from(request, clinic.time_zone)
    monday = day_in_week - dt.timedelta(days=day_in_week.weekday())
    days = [monday + dt.timedelta(days=offset) for offset in range(7)]
    chairs = list(selectors.chairs_for(viewer=request.user, clinic=clinic).filter(is_active=True))
    staff = selectors.staff_on_schedule(viewer=request.user, clinic=clinic)
    person = staff.filter(pk=parse_id(request.GET.get("person")) or 0).first()
    chair = next(
        (c for c in chairs if c.pk == parse_id(request.GET.get("chair"))), chairs[0] if chairs else None
    )
    if person is not None:
        grid = selectors.calendar_grid(viewer=request.user, clinic=clinic, days=days, people=[person])
    else:
        grid = selectors.calendar_grid(
            viewer=request.user, clinic=clinic, days=days, chair_ids=[chair.pk] if chair else []
        )
    context = _grid_context(request, clinic, grid) | {
        "monday": monday,
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
        "chairs": chairs,
        "staff": staff,
        "chair": None if person else chair,
        "person": person,
    }
    return render(request, "scheduling/week.html", context)


@login_required
def book_slot(request: HttpRequest) -> HttpResponse:
    """An open slot was clicked: find the patient (htmx search as you type), then book with the slot's date,
    time and chair or person carried over."""
    require(actor(request), Perm.BOOK_APPOINTMENT)
    form = SlotPatientForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = patient_selectors.search_patients(viewer=request.user, query=query) if query else []
    slot = {key: request.GET.get(key, "") for key in ("date", "time", "chair", "nurse", "clinician")}
    context = {
        "form": form,
        "results": results,
        "query": query,
        "slot_query": urlencode({key: value for key, value in slot.items() if value}),
        "slot_date": _parse_date(slot["date"]),
        "slot_time": slot["time"],
    }
    # htmx asks for the results only, as the search box changes.
    template = "scheduling/book_slot.html#results" if request.htmx else "scheduling/book_slot.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@login_required
def patient_visits(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.patient_for_schedule(viewer=request.user, patient_id=patient_id)
    context = {
        "patient": patient,
        "visits": selectors.upcoming_for_patient(viewer=request.user, patient=patient),
        "can_book": can(request.user, Perm.BOOK_APPOINTMENT),
    }
    return render(request, "scheduling/patient_visits.html", context)


def _local(form: BaseForm, day_value: dt.date, time_value: dt.time, zone: str) -> dt.datetime | None:
    try:
        return rules.local_datetime(day_value, time_value, zone)
    except rules.SlotError as error:
        form.add_error("time", error.message)
        return None


@login_required
def book(request: HttpRequest, patient_id: int) -> HttpResponse:
    require(actor(request), Perm.BOOK_APPOINTMENT)
    patient = selectors.patient_for_schedule(viewer=request.user, patient_id=patient_id)
    clinic = patient.clinic
    staff = selectors.staff_on_schedule(viewer=request.user, clinic=clinic)
    form = BookAppointmentForm(
        request.POST or None,
        chairs=Chair.objects.filter(clinic=clinic, is_active=True),
        nurses=staff.filter(role=Role.NURSE.value),
        clinicians=staff.filter(role__in=[Role.CLINICIAN.value, Role.THERAPIST.value]),
        initial=_booking_initial(request, patient),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        starts_at = _local(form, data["date"], data["time"], clinic.time_zone)
        if starts_at is not None:
            try:
                appointment = services.book_appointment(
                    by=actor(request),
                    patient=patient,
                    kind=data["kind"],
                    starts_at=starts_at,
                    chair=data["chair"],
                    nurse=data["nurse"],
                    clinician=data["clinician"],
                    duration_min=data["duration_min"],
                    note=data["note"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(
                    request, f"{appointment.get_kind_display()} booked for {patient.display_name}."
                )
                return redirect(reverse("scheduling:day") + f"?date={data['date']:%Y-%m-%d}")
    defaults = services.booking_defaults(patient)
    return render(
        request,
        "scheduling/book.html",
        {"form": form, "patient": patient, "first_visit": defaults.kind != "infusion"},
        status=422 if form.errors else 200,
    )


def _booking_initial(request: HttpRequest, patient: Any) -> dict[str, Any]:
    """The slot clicked on the grid (date, time, chair or person), and the kind and length a visit of this
    patient defaults to (an assessment until a plan is signed), or the kind the link asks for."""
    defaults = services.booking_defaults(patient)
    initial: dict[str, Any] = {
        "date": _parse_date(request.GET.get("date", "")) or clock.today_in(patient.clinic.time_zone),
        "kind": defaults.kind,
        "duration_min": defaults.duration_min,
    }
    for key in ("time", "chair", "nurse", "clinician"):
        if request.GET.get(key):
            initial[key] = request.GET[key]
    # A link for another kind of visit (the plan's "Book a psychotherapy session"): its length is typed.
    kind = request.GET.get("kind", "")
    if kind in AppointmentKind.values and kind != defaults.kind:
        initial["kind"], initial["duration_min"] = kind, None
    return initial


@login_required
def series(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Propose (POST action=propose), adjust each date on the form, confirm (action=confirm, all or none)."""
    require(actor(request), Perm.BOOK_APPOINTMENT)
    patient = selectors.patient_for_schedule(viewer=request.user, patient_id=patient_id)
    clinic = patient.clinic
    chairs = Chair.objects.filter(clinic=clinic, is_active=True)
    start_form = SeriesStartForm(
        request.POST if request.POST.get("action") == "propose" else None,
        initial={
            "start": clock.today_in(clinic.time_zone) + dt.timedelta(days=1),
            "preferred_time": dt.time(9),
        },
    )
    formset = None
    proposal = None
    error = ""
    if request.POST.get("action") == "propose" and start_form.is_valid():
        proposal = selectors.propose_series_for(
            viewer=request.user,
            patient=patient,
            start=start_form.cleaned_data["start"],
            preferred_time=start_form.cleaned_data["preferred_time"],
        )
        if proposal is None:
            error = f"{patient.display_name} has no signed treatment plan: a series cannot be booked yet."
        else:
            initial = [
                {
                    "include": True,
                    "date": rules.to_local(slot.starts_at, clinic.time_zone).date(),
                    "time": rules.to_local(slot.starts_at, clinic.time_zone).time(),
                    "chair": slot.assignment.chair_id,
                }
                for slot in proposal.slots
            ]
            formset = SeriesSlotFormSet(initial=initial, prefix="slot", form_kwargs={"chairs": chairs})
    elif request.POST.get("action") == "confirm":
        formset = SeriesSlotFormSet(request.POST, prefix="slot", form_kwargs={"chairs": chairs})
        if formset.is_valid():
            slots: list[services.SeriesSlot] = []
            for row in formset.cleaned_data:
                if not row or not row.get("include"):
                    continue
                try:
                    starts_at = rules.local_datetime(row["date"], row["time"], clinic.time_zone)
                except rules.SlotError as slot_error:
                    error = slot_error.message
                    break
                slots.append(services.SeriesSlot(starts_at=starts_at, chair=row["chair"]))
            if not error:
                try:
                    booked = services.book_series(by=actor(request), patient=patient, slots=slots)
                except DomainError as failure:
                    error = failure.message
                else:
                    messages.success(request, f"{len(booked)} infusions booked for {patient.display_name}.")
                    return redirect("scheduling:patient", patient_id=patient.pk)
        else:
            error = "Check the dates and times below."
    context = {
        "patient": patient,
        "start_form": start_form,
        "formset": formset,
        "proposal": proposal,
        "error": error,
    }
    return render(request, "scheduling/series.html", context, status=422 if error else 200)


@login_required
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = selectors.appointment_for(viewer=request.user, appointment_id=appointment_id)
    context = {
        "appointment": appointment,
        "needs_confirmation": services.needs_confirmation(appointment),
        "has_begun": services.has_begun(appointment),
        "history": appointment.status_changes.select_related("changed_by"),
        "confirmations": appointment.confirmations.select_related("confirmed_by"),
        "instructions": services.instruction_lines(),
        "can_book": can(request.user, Perm.BOOK_APPOINTMENT),
        "reason_form": ReasonForm(),
        # Billing's deposit card loads into the page (htmx) for whoever takes deposits.
        "shows_deposit": can(request.user, Perm.TAKE_DEPOSIT),
    }
    return render(request, "scheduling/appointment.html", context)


@login_required
def move(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Reschedule a booked visit: a new date, time and (for an infusion) chair, with an optional reason. The
    same appointment moves (its history says from when to when); nothing is cancelled and rebooked."""
    by = actor(request)
    require(by, Perm.BOOK_APPOINTMENT)
    appointment = selectors.appointment_for(viewer=by, appointment_id=appointment_id)
    clinic = appointment.clinic
    local = rules.to_local(appointment.starts_at, clinic.time_zone)
    form = MoveAppointmentForm(
        request.POST or None,
        chairs=Chair.objects.filter(clinic=clinic, is_active=True),
        initial={
            "date": _parse_date(request.GET.get("date", "")) or local.date(),
            "time": request.GET.get("time") or local.time(),
            "chair": request.GET.get("chair") or appointment.chair_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        starts_at = _local(form, data["date"], data["time"], clinic.time_zone)
        if starts_at is not None:
            try:
                moved = services.move_appointment(
                    by=by,
                    appointment=appointment,
                    starts_at=starts_at,
                    chair=data["chair"],
                    # A consultation stays with its clinician; an infusion takes whoever is free then.
                    clinician=None if appointment.kind == AppointmentKind.INFUSION else appointment.clinician,
                    reason=data["reason"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(
                    request,
                    f"{moved.get_kind_display()} for {moved.patient.display_name} moved to "
                    f"{format_moment(moved.starts_at, clinic.time_zone)}.",
                )
                return redirect("scheduling:appointment", appointment_id=moved.pk)
    context = {"form": form, "appointment": appointment}
    return render(request, "scheduling/move.html", context, status=422 if form.errors else 200)


def _act(request: HttpRequest, appointment_id: int, action: str) -> HttpResponse:
    require(actor(request), Perm.BOOK_APPOINTMENT)
    appointment = selectors.appointment_for(viewer=request.user, appointment_id=appointment_id)
    reason_form = ReasonForm(request.POST)
    try:
        if action == "check_in":
            services.check_in(by=actor(request), appointment=appointment)
        elif action == "attended":
            services.mark_attended(by=actor(request), appointment=appointment)
        elif action == "confirm":
            services.confirm_instructions_by_phone(by=actor(request), appointment=appointment)
        else:
            reason = request.POST.get("reason", "")
            if action == "cancel":
                services.cancel_appointment(by=actor(request), appointment=appointment, reason=reason)
            else:
                services.record_no_show(by=actor(request), appointment=appointment, reason=reason)
    except DomainError as error:
        reason_form.is_valid()
        context = {
            "appointment": appointment,
            "needs_confirmation": services.needs_confirmation(appointment),
            "has_begun": services.has_begun(appointment),
            "history": appointment.status_changes.select_related("changed_by"),
            "confirmations": appointment.confirmations.select_related("confirmed_by"),
            "instructions": services.instruction_lines(),
            "can_book": True,
            "reason_form": reason_form,
            "error": error.message,
        }
        return render(request, "scheduling/appointment.html", context, status=422)
    messages.success(request, "Saved.")
    return redirect("scheduling:appointment", appointment_id=appointment.pk)


@login_required
@require_POST
def check_in(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, "check_in")


@login_required
@require_POST
def attended(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, "attended")


@login_required
@require_POST
def confirm_by_phone(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, "confirm")


@login_required
@require_POST
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, "cancel")


@login_required
@require_POST
def no_show(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, "no_show")


def confirm_instructions(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's one-time link (no sign-in): read the instructions, confirm once."""
    try:
        appointment = services.appointment_for_token(token)
        already = appointment.confirmations.exists()
        if request.method == "POST" and not already:
            services.confirm_instructions_by_link(token=token)
            already = True
    except DomainError as error:
        return render(request, "scheduling/confirm_link.html", {"error": error.message}, status=404)
    context = {
        "appointment": appointment,
        "instructions": services.instruction_lines(),
        "confirmed": already,
    }
    return render(request, "scheduling/confirm_link.html", context)


@login_required
def resources(request: HttpRequest) -> HttpResponse:
    require(actor(request), Perm.MANAGE_RESOURCES)
    clinic = _clinic(request)
    staff = selectors.staff_on_schedule(viewer=request.user, clinic=clinic)
    chair_form = ChairForm(request.POST if request.POST.get("form") == "chair" else None, prefix="chair")
    hours_form = StaffHoursForm(
        request.POST if request.POST.get("form") == "hours" else None, prefix="hours", staff=staff
    )
    closure_form = ClosureForm(
        request.POST if request.POST.get("form") == "closure" else None, prefix="closure"
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "chair" and chair_form.is_valid():
                services.add_chair(by=actor(request), clinic=clinic, **chair_form.cleaned_data)
                return _saved(request, "Chair added.")
            if request.POST.get("form") == "hours" and hours_form.is_valid():
                services.add_staff_hours(by=actor(request), clinic=clinic, **hours_form.cleaned_data)
                return _saved(request, "Working hours added.")
            if request.POST.get("form") == "closure" and closure_form.is_valid():
                services.add_closure(by=actor(request), clinic=clinic, **closure_form.cleaned_data)
                return _saved(request, "Closure added.")
        except DomainError as error:
            target = {"chair": chair_form, "hours": hours_form, "closure": closure_form}[request.POST["form"]]
            field_error(target, error)
    context = {
        "clinic": clinic,
        "chairs": selectors.chairs_for(viewer=request.user, clinic=clinic),
        "hours": selectors.staff_hours_for(viewer=request.user, clinic=clinic),
        "closures": selectors.closures_for(viewer=request.user, clinic=clinic),
        "chair_form": chair_form,
        "hours_form": hours_form,
        "closure_form": closure_form,
    }
    invalid = any(form.errors for form in (chair_form, hours_form, closure_form))
    return render(request, "scheduling/resources.html", context, status=422 if invalid else 200)


def _saved(request: HttpRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("scheduling:resources")


@login_required
@require_POST
def chair_toggle(request: HttpRequest, chair_id: int) -> HttpResponse:
    chair = selectors.resource_for(viewer=request.user, model=Chair, object_id=chair_id)
    services.set_chair_active(by=actor(request), chair=chair, is_active=not chair.is_active)
    return _saved(request, f"{chair.name} {'back in service' if chair.is_active else 'out of service'}.")


@login_required
@require_POST
def hours_remove(request: HttpRequest, hours_id: int) -> HttpResponse:
    hours = selectors.resource_for(viewer=request.user, model=StaffHours, object_id=hours_id)
    services.remove_staff_hours(by=actor(request), hours=hours)
    return _saved(request, "Working hours removed.")


@login_required
@require_POST
def closure_remove(request: HttpRequest, closure_id: int) -> HttpResponse:
    closure = selectors.resource_for(viewer=request.user, model=Closure, object_id=closure_id)
    services.remove_closure(by=actor(request), closure=closure)
    return _saved(request, "Closure removed.")
