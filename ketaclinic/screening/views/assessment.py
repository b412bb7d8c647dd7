"""The clinician's assessment: the summary page, a form per section, the decision page."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.core.inputs import parse_id
from ketaclinic.patients.models import Patient
from ketaclinic.screening import catalogues, rules, selectors, services
from ketaclinic.screening.forms import (
    DecisionForm,
    DiagnosisCorrectionForm,
    DiagnosisForm,
    HealthHistoryForm,
    MedicationCorrectionForm,
    MedicationForm,
    OverrideForm,
    SendIntakeForm,
    TreatmentCorrectionForm,
    TreatmentForm,
    TrialCorrectionForm,
    TrialForm,
    VitalSignsForm,
    history_initial_from_intake,
)
from ketaclinic.screening.models import (
    AntidepressantTrial,
    Diagnosis,
    DiagnosisRole,
    DiagnosisStatus,
    Medication,
    OtherTreatment,
    TreatmentKind,
    TrialResponse,
)


def _intake_email(patient: Patient) -> str:
    guardian = patient.guardians.filter(is_active=True, can_consent=True).exclude(email="").first()
    return guardian.email if guardian else patient.email


@login_required
def assessment(request: HttpRequest, patient_id: int) -> HttpResponse:
    page = selectors.assessment_for(viewer=request.user, patient_id=patient_id)
    patient = page.state.patient
    context = {
        "page": page,
        "state": page.state,
        "patient": patient,
        "can_record": can(request.user, Perm.RECORD_ASSESSMENT),
        "can_sign": can(request.user, Perm.SIGN_ELIGIBILITY),
        "can_send_intake": can(request.user, Perm.SEND_INTAKE),
        "intake_form": SendIntakeForm(initial={"email": _intake_email(patient)}),
        "icd10_release": catalogues.RELEASE,
    }
    return render(request, "screening/assessment.html", context)


def _section(
    request: HttpRequest,
    patient_id: int,
    *,
    form: BaseForm,
    title: str,
    save: Callable[[Patient, dict[str, Any]], object],
    done: str,
    patient: Patient,
    extra: dict[str, Any] | None = None,
    template: str = "screening/section_form.html",
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            save(patient, form.cleaned_data)
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, done)
            return redirect("screening:assessment", patient_id=patient.pk)
    context = {"form": form, "title": title, "patient": patient, **(extra or {})}
    return render(request, template, context)


def _patient(request: HttpRequest, patient_id: int) -> Patient:
    return selectors.patient_for(viewer=request.user, patient_id=patient_id, perm=Perm.RECORD_ASSESSMENT)


@login_required
def diagnosis_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_diagnosis(
            by=actor(request),
            patient=patient,
            icd10_code=data["icd10_code"],
            role=DiagnosisRole(data["role"]),
            status=DiagnosisStatus(data["status"]),
            onset_year=data["onset_year"],
            note=data["note"],
        )

    return _section(
        request,
        patient_id,
        form=DiagnosisForm(request.POST or None),
        title="Add a diagnosis",
        save=save,
        done="Diagnosis recorded.",
        patient=patient,
        extra={"icd10_release": catalogues.RELEASE, "datalists": ["icd10-options"]},
    )


@login_required
def diagnosis_correct(request: HttpRequest, patient_id: int, row_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)
    old: Diagnosis = selectors.row_for(patient=patient, model=Diagnosis, row_id=row_id)
    initial = {
        "icd10_code": old.icd10_code,
        "role": old.role,
        "status": old.status,
        "onset_year": old.onset_year,
        "note": old.note,
    }

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_diagnosis(
            by=actor(request),
            patient=patient,
            icd10_code=data["icd10_code"],
            role=DiagnosisRole(data["role"]),
            status=DiagnosisStatus(data["status"]),
            onset_year=data["onset_year"],
            note=data["note"],
            corrects=old,
            correction_reason=data["correction_reason"],
        )

    return _section(
        request,
        patient_id,
        form=DiagnosisCorrectionForm(request.POST or None, initial=initial),
        title=f"Correct or update {old.icd10_code} {old.description}",
        save=save,
        done="Diagnosis updated; the earlier entry is kept.",
        patient=patient,
        extra={"icd10_release": catalogues.RELEASE, "datalists": ["icd10-options"]},
    )


def _medication_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "classes": data["classes"],
        "dose_amount": data["dose_amount"],
        "dose_unit": data["dose_unit"],
        "frequency": data["frequency"],
        "prescriber": data["prescriber"],
        "started_on": data["started_on"],
        "stopped_on": data["stopped_on"],
    }


@login_required
def medication_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)
    intake = selectors.latest_intake(patient=patient)

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_medication(by=actor(request), patient=patient, **_medication_kwargs(data))

    return _section(
        request,
        patient_id,
        form=MedicationForm(request.POST or None),
        title="Add a medication",
        save=save,
        done="Medication recorded.",
        patient=patient,
        extra={
            "datalists": ["medication-options"],
            "intake_note": intake.answers.get("current_medications", "") if intake else "",
        },
    )


@login_required
def medication_correct(request: HttpRequest, patient_id: int, row_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)
    old: Medication = selectors.row_for(patient=patient, model=Medication, row_id=row_id)
    initial = {
        "name": old.name,
        "classes": [] if old.catalogue_key else old.classes,
        "dose_amount": old.dose_amount,
        "dose_unit": old.dose_unit,
        "frequency": old.frequency,
        "prescriber": old.prescriber,
        "started_on": old.started_on,
        "stopped_on": old.stopped_on,
    }

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_medication(
            by=actor(request),
            patient=patient,
            catalogue_key=old.catalogue_key if data["name"] == old.name else "",
            entered_in_error=data["entered_in_error"],
            corrects=old,
            correction_reason=data["correction_reason"],
            **_medication_kwargs(data),
        )

    return _section(
        request,
        patient_id,
        form=MedicationCorrectionForm(request.POST or None, initial=initial),
        title=f"Change, stop or correct {old.name}",
        save=save,
        done="Medication updated; the earlier entry is kept.",
        patient=patient,
        extra={"datalists": ["medication-options"]},
    )


@login_required
def trial_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)
    intake = selectors.latest_intake(patient=patient)

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_trial(
            by=actor(request),
            patient=patient,
            drug=data["drug"],
            dose_mg_per_day=data["dose_mg_per_day"],
            duration_weeks=data["duration_weeks"],
            dose_adequate=data["dose_adequate"],
            duration_adequate=data["duration_adequate"],
            response=TrialResponse(data["response"]),
            ended_year=data["ended_year"],
        )

    return _section(
        request,
        patient_id,
        form=TrialForm(request.POST or None),
        title="Add an antidepressant trial",
        save=save,
        done="Trial recorded.",
        patient=patient,
        extra={
            "datalists": ["medication-options"],
            "intake_note": intake.answers.get("past_antidepressants", "") if intake else "",
        },
    )


@login_required
def trial_correct(request: HttpRequest, patient_id: int, row_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)
    old: AntidepressantTrial = selectors.row_for(patient=patient, model=AntidepressantTrial, row_id=row_id)
    initial = {
        "drug": old.drug,
        "dose_mg_per_day": old.dose_mg_per_day,
        "duration_weeks": old.duration_weeks,
        "dose_adequate": old.dose_adequate,
        "duration_adequate": old.duration_adequate,
        "response": old.response,
        "ended_year": old.ended_year,
    }

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_trial(
            by=actor(request),
            patient=patient,
            drug=data["drug"],
            dose_mg_per_day=data["dose_mg_per_day"],
            duration_weeks=data["duration_weeks"],
            dose_adequate=data["dose_adequate"],
            duration_adequate=data["duration_adequate"],
            response=TrialResponse(data["response"]),
            ended_year=data["ended_year"],
            entered_in_error=data["entered_in_error"],
            corrects=old,
            correction_reason=data["correction_reason"],
        )

    return _section(
        request,
        patient_id,
        form=TrialCorrectionForm(request.POST or None, initial=initial),
        title=f"Correct the {old.drug} trial",
        save=save,
        done="Trial corrected; the earlier entry is kept.",
        patient=patient,
        extra={"datalists": ["medication-options"]},
    )


@login_required
def treatment_correct(request: HttpRequest, patient_id: int, row_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)
    old: OtherTreatment = selectors.row_for(patient=patient, model=OtherTreatment, row_id=row_id)
    initial = {
        "kind": old.kind,
        "sessions": old.sessions,
        "response": old.response,
        "ended_year": old.ended_year,
        "note": old.note,
    }

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_treatment(
            by=actor(request),
            patient=patient,
            kind=TreatmentKind(data["kind"]),
            sessions=data["sessions"],
            response=TrialResponse(data["response"]),
            ended_year=data["ended_year"],
            note=data["note"],
            entered_in_error=data["entered_in_error"],
            corrects=old,
            correction_reason=data["correction_reason"],
        )

    return _section(
        request,
        patient_id,
        form=TreatmentCorrectionForm(request.POST or None, initial=initial),
        title=f"Correct the {old.get_kind_display()} course",
        save=save,
        done="Course corrected; the earlier entry is kept.",
        patient=patient,
    )


@login_required
def treatment_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_treatment(
            by=actor(request),
            patient=patient,
            kind=TreatmentKind(data["kind"]),
            sessions=data["sessions"],
            response=TrialResponse(data["response"]),
            ended_year=data["ended_year"],
            note=data["note"],
        )

    return _section(
        request,
        patient_id,
        form=TreatmentForm(request.POST or None),
        title="Add ECT, TMS or psychotherapy",
        save=save,
        done="Treatment recorded.",
        patient=patient,
    )


@login_required
def history_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The health history form: the current version, or (first time) what the intake answers suggest."""
    patient = _patient(request, patient_id)
    state = selectors.assessment_state(patient=patient)
    intake = selectors.latest_intake(patient=patient)
    if state.history is not None:
        initial = {name: getattr(state.history, name) for name in services.HEALTH_HISTORY_FIELDS}
    else:
        initial = history_initial_from_intake(intake.answers) if intake else {}

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_health_history(by=actor(request), patient=patient, details=data)

    return _section(
        request,
        patient_id,
        template="screening/history_form.html",
        form=HealthHistoryForm(request.POST or None, initial=initial),
        title="Medical and psychiatric history",
        save=save,
        done="History saved as a new version.",
        patient=patient,
        extra={
            "prefilled_from_intake": state.history is None and intake is not None,
            "fall_risk_required": state.fall_risk_required,
        },
    )


@login_required
def vitals_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)

    def save(patient: Patient, data: dict[str, Any]) -> object:
        return services.record_vital_signs(by=actor(request), patient=patient, **data)

    return _section(
        request,
        patient_id,
        form=VitalSignsForm(request.POST or None),
        title="Baseline vital signs, weight and height",
        save=save,
        done="Vital signs recorded; BMI computed.",
        patient=patient,
    )


@login_required
def decision(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The findings with override forms, and the signing form."""
    patient = selectors.patient_for(viewer=request.user, patient_id=patient_id, perm=Perm.SIGN_ELIGIBILITY)
    state = selectors.assessment_state(patient=patient)
    form = DecisionForm(request.POST or None, warnings=state.warnings)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                signed = services.sign_eligibility(
                    by=actor(request),
                    patient=patient,
                    proposed=rules.Outcome(data["proposed"]),
                    reasons=data["reasons"],
                    conditions=data["conditions"],
                    alternatives=data["alternatives"],
                    warning_decisions=form.warning_decisions(),
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, f"Eligibility signed: {signed.get_outcome_display().lower()}.")
                return redirect("screening:assessment", patient_id=patient.pk)
        status = 422
    return _decision_page(request, patient, state, form, status=status)


def _decision_page(
    request: HttpRequest,
    patient: Patient,
    state: selectors.AssessmentState,
    form: DecisionForm,
    *,
    override_form: OverrideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "patient": patient,
        "state": state,
        "form": form,
        "override_form": override_form,
        "can_override": can(request.user, Perm.OVERRIDE_HARD_STOP),
        "open_stops": state.open_hard_stops,
    }
    return render(request, "screening/decision.html", context, status=status)


@login_required
@require_POST
def override(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.patient_for(viewer=request.user, patient_id=patient_id, perm=Perm.OVERRIDE_HARD_STOP)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.override_hard_stop(
                by=actor(request),
                patient=patient,
                finding_code=form.cleaned_data["finding_code"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Hard stop overridden; the override is recorded with your reason.")
            return redirect("screening:decision", patient_id=patient.pk)
    state = selectors.assessment_state(patient=patient)
    return _decision_page(
        request, patient, state, DecisionForm(warnings=state.warnings), override_form=form, status=422
    )


@login_required
@require_POST
def intake_send(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.patient_for(
        viewer=request.user,
        patient_id=patient_id,
        perm=Perm.SEND_INTAKE,
        audit_as=ObjectType.INTAKE_INVITATION,
    )
    form = SendIntakeForm(request.POST)
    if form.is_valid():
        try:
            services.send_intake_link(by=actor(request), patient=patient, email=form.cleaned_data["email"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Intake link sent to {form.cleaned_data['email']}.")
    else:
        messages.error(request, "Give a valid e-mail address for the intake link.")
    inquiry_id = parse_id(request.POST.get("inquiry"))
    if inquiry_id is not None:
        # Sent from the inquiry page (the front desk, who cannot open the assessment): back there.
        return redirect("screening:inquiry_detail", inquiry_id=inquiry_id)
    if can(request.user, Perm.VIEW_ASSESSMENT):
        return redirect("screening:assessment", patient_id=patient.pk)
    return redirect("patients:detail", patient_id=patient.pk)


@login_required
def code_search(request: HttpRequest) -> HttpResponse:
    """<option>s for the ICD-10-CM datalist (htmx). The code list is not patient data: not audited."""
    require(request.user, Perm.RECORD_ASSESSMENT)
    query = request.GET.get("icd10_code") or request.GET.get("q") or ""
    return render(request, "screening/_code_options.html", {"codes": catalogues.search(query[:60])})


@login_required
def medication_search(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.RECORD_ASSESSMENT)
    query = request.GET.get("name") or request.GET.get("drug") or request.GET.get("q") or ""
    results = catalogues.search_medications(query[:60])
    return render(request, "screening/_medication_options.html", {"medications": results})
