"""Patient pages: find, register, chart, edit, guardians, consent. Thin: parse, call, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.core.inputs import parse_id
from ketaclinic.patients import selectors, services
from ketaclinic.patients.forms import (
    AllergyForm,
    ConsentRecordForm,
    ConsentTextForm,
    GuardianForm,
    NoKnownAllergiesForm,
    PatientForm,
    RegisterPatientForm,
    RetireAllergyForm,
    SearchForm,
    WithdrawConsentForm,
)
from ketaclinic.patients.models import Assent, ConsentForm, ConsentKind, SignedBy


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    """Search box with results; htmx requests get only the results fragment."""
    require(request.user, Perm.VIEW_PATIENT)
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    results = selectors.search_patients(viewer=request.user, query=query) if query else []
    recent = [] if query else selectors.recent_patients_for(viewer=request.user)
    context = {
        "form": form,
        "query": query,
        "results": results,
        "recent": recent,
        "can_add": can(request.user, Perm.ADD_PATIENT),
    }
    template = "patients/list.html#results" if request.htmx else "patients/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def patient_register(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.ADD_PATIENT)
    clinics = clinics_for(request.user)
    first_clinic = clinics.first()
    clinic_id = request.POST.get("clinic") or (first_clinic.pk if first_clinic else 0)
    form = RegisterPatientForm(
        request.POST or None,
        clinics=clinics,
        clinicians=selectors.clinicians_for_clinic(viewer=request.user, clinic_id=parse_id(clinic_id) or 0),
        initial={"clinic": first_clinic},
    )
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient(
                by=actor(request),
                clinic=form.cleaned_data["clinic"],
                details={name: form.cleaned_data[name] for name in services.DEMOGRAPHIC_FIELDS},
                guardian=form.guardian_details(),
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"{patient.display_name} registered as {patient.record_number}.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/register.html", {"form": form})


# The patient's pages in apps above this one, reached by URL name (no import): label, URL name, permission.
CARE_LINKS: list[tuple[str, str, Perm]] = [
    ("Encounter", "dosing:encounter", Perm.VIEW_ASSESSMENT),
    ("Assessment", "screening:assessment", Perm.VIEW_ASSESSMENT),
    ("Scales and outcomes", "measures:patient", Perm.VIEW_MEASURES),
    ("Send a questionnaire", "measures:send", Perm.SEND_MEASURE_LINK),
    ("Treatment plan", "plans:patient", Perm.VIEW_PLAN),
    ("Visits", "scheduling:patient", Perm.VIEW_SCHEDULE),
    ("Dose orders", "dosing:patient_orders", Perm.VIEW_DOSE_ORDER),
    ("Infusion visits", "infusions:patient_visits", Perm.VIEW_INFUSION),
    ("Notes", "notes:patient", Perm.VIEW_NOTES),
    ("Chart timeline", "notes:timeline", Perm.VIEW_NOTES),
    ("Letters", "notes:letters", Perm.VIEW_NOTES),
    ("Outside records", "notes:documents", Perm.FILE_DOCUMENTS),
]


@login_required
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    chart = selectors.patient_chart(viewer=request.user, patient_id=patient_id)
    care_links = [
        {"label": label, "url": reverse(url_name, args=[chart.patient.pk])}
        for label, url_name, perm in CARE_LINKS
        if can(request.user, perm)
    ]
    context = {
        "chart": chart,
        "patient": chart.patient,
        "can_change": can(request.user, Perm.CHANGE_PATIENT),
        "can_consent": can(request.user, Perm.RECORD_CONSENT),
        "can_record_allergies": can(request.user, Perm.RECORD_ASSESSMENT),
        # The portal's invitation page (the portal app owns it; the link is a URL name, not an import).
        "can_invite": can(request.user, Perm.INVITE_TO_PORTAL),
        "care_links": care_links,
    }
    return render(request, "patients/detail.html", context)


@login_required
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    require(request.user, Perm.CHANGE_PATIENT)
    patient = selectors.patient_for(viewer=request.user, patient_id=patient_id)
    form = PatientForm(
        request.POST or None,
        initial={name: getattr(patient, name) for name in services.DEMOGRAPHIC_FIELDS},
        clinicians=selectors.clinicians_for_clinic(viewer=request.user, clinic_id=patient.clinic_id),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_patient(
                by=actor(request),
                patient=patient,
                details={name: form.cleaned_data[name] for name in services.DEMOGRAPHIC_FIELDS},
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Changes saved. The earlier values are kept in the history.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/edit.html", {"form": form, "patient": patient})


@login_required
def patient_history(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient, versions = selectors.patient_history(viewer=request.user, patient_id=patient_id)
    rows = []
    for newer, older in zip(versions, [*versions[1:], None], strict=True):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, foreign_keys_are_objs=False)
            changes = [(change.field, change.old, change.new) for change in delta.changes]
        rows.append({"version": newer, "changes": changes})
    return render(request, "patients/history.html", {"patient": patient, "rows": rows})


@login_required
def guardian_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    require(request.user, Perm.CHANGE_PATIENT)
    patient = selectors.patient_for(viewer=request.user, patient_id=patient_id)
    form = GuardianForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_guardian(by=actor(request), patient=patient, details=form.details())
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Guardian added.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/guardian_form.html", {"form": form, "patient": patient})


@login_required
@require_POST
def guardian_unlink(request: HttpRequest, patient_id: int, guardian_id: int) -> HttpResponse:
    require(request.user, Perm.CHANGE_PATIENT)
    patient = selectors.patient_for(viewer=request.user, patient_id=patient_id)
    guardian = selectors.guardian_for(viewer=request.user, patient=patient, guardian_id=guardian_id)
    try:
        services.deactivate_guardian(by=actor(request), guardian=guardian)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{guardian.full_name} is no longer linked.")
    return redirect("patients:detail", patient_id=patient.pk)


@login_required
def consent_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    require(request.user, Perm.RECORD_CONSENT)
    chart = selectors.patient_chart(viewer=request.user, patient_id=patient_id)
    patient = chart.patient
    current_ids = [form.pk for form in selectors.current_consent_forms()]
    initial: dict[str, Any] = {
        "signed_on": selectors.today_for(patient),
        "signed_by": SignedBy.GUARDIAN if chart.is_minor else SignedBy.PATIENT,
        "assent": Assent.GIVEN if chart.assent_expected else Assent.NOT_APPLICABLE,
    }
    kind = request.GET.get("kind")
    if kind in ConsentKind.values:
        initial["form"] = ConsentForm.objects.filter(pk__in=current_ids, kind=kind).first()
    form = ConsentRecordForm(
        request.POST or None,
        initial=initial,
        forms_available=ConsentForm.objects.filter(pk__in=current_ids),
        guardians=patient.guardians.filter(is_active=True),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_consent(
                by=actor(request),
                patient=patient,
                form=data["form"],
                signed_by=SignedBy(data["signed_by"]),
                guardian=data["guardian"],
                signed_on=data["signed_on"],
                assent=Assent(data["assent"]),
                assent_note=data["assent_note"],
                note=data["note"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Consent recorded.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/consent_form.html", {"form": form, "chart": chart, "patient": patient})


@login_required
def consent_withdraw(request: HttpRequest, patient_id: int, record_id: int) -> HttpResponse:
    require(request.user, Perm.RECORD_CONSENT)
    patient = selectors.patient_for(viewer=request.user, patient_id=patient_id)
    record = selectors.consent_record_for(viewer=request.user, patient=patient, record_id=record_id)
    form = WithdrawConsentForm(request.POST or None, initial={"withdrawn_on": selectors.today_for(patient)})
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_consent(
                by=actor(request),
                consent=record,
                reason=form.cleaned_data["reason"],
                withdrawn_on=form.cleaned_data["withdrawn_on"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Withdrawal recorded.")
            return redirect("patients:detail", patient_id=patient.pk)
    context = {"form": form, "patient": patient, "record": record}
    return render(request, "patients/consent_withdraw.html", context)


@login_required
def consent_texts(request: HttpRequest) -> HttpResponse:
    """The clinic admin's list of consent texts, with a form for a new version."""
    texts = selectors.consent_forms_for(viewer=request.user)
    form = ConsentTextForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        published = services.publish_consent_form(
            by=actor(request),
            kind=ConsentKind(data["kind"]),
            title=data["title"],
            body=data["body"],
            effective_from=data["effective_from"],
        )
        messages.success(request, f"{published} published; patients will be asked to sign it.")
        return redirect("patients:consent_texts")
    return render(request, "patients/consent_texts.html", {"texts": texts, "form": form})


@login_required
def allergy_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record an allergy, or that the patient has no known allergies (two forms on one page)."""
    require(request.user, Perm.RECORD_ASSESSMENT)
    chart = selectors.patient_chart(viewer=request.user, patient_id=patient_id)
    patient = chart.patient
    posted = request.POST.get("entry", "") if request.method == "POST" else ""
    form = AllergyForm(request.POST if posted == "allergy" else None)
    none_form = NoKnownAllergiesForm(request.POST if posted == "none" else None)
    if posted == "allergy" and form.is_valid():
        try:
            entry = services.record_allergy(by=actor(request), patient=patient, details=form.details())
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"Allergy to {entry.substance} recorded.")
            return redirect(reverse("patients:detail", args=[patient.pk]) + "#allergies")
    if posted == "none" and none_form.is_valid():
        try:
            services.record_no_known_allergies(
                by=actor(request), patient=patient, note=none_form.cleaned_data["nka_note"]
            )
        except DomainError as error:
            none_form.add_error(None, error.message)
        else:
            messages.success(request, "No known allergies recorded.")
            return redirect(reverse("patients:detail", args=[patient.pk]) + "#allergies")
    status = 400 if posted else 200
    context = {"form": form, "none_form": none_form, "chart": chart, "patient": patient}
    return render(request, "patients/allergy_form.html", context, status=status)


@login_required
def allergy_retire(request: HttpRequest, patient_id: int, entry_id: int) -> HttpResponse:
    require(request.user, Perm.RECORD_ASSESSMENT)
    patient = selectors.patient_for(viewer=request.user, patient_id=patient_id)
    entry = selectors.allergy_entry_for(viewer=request.user, patient=patient, entry_id=entry_id)
    form = RetireAllergyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.retire_allergy_entry(
                by=actor(request),
                entry=entry,
                retirement=form.cleaned_data["retirement"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Allergy entry retired.")
            return redirect(reverse("patients:detail", args=[patient.pk]) + "#allergies")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "patient": patient, "entry": entry}
    return render(request, "patients/allergy_retire.html", context, status=status)
