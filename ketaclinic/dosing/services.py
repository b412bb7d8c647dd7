"""The staff's verbs for dose orders: calculate, prescribe, override a hard stop, co-sign, supersede, titrate.

Every computation runs the pure rules (`dosing.rules`) on the clinic's protocol values for the patient's
population; every write is audited; orders, overrides and co-signatures are append-only.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from ketaclinic.accounts.access import require, require_clinic
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change, record_read
from ketaclinic.core import clock
from ketaclinic.core.inputs import clean_reason
from ketaclinic.dosing import rules
from ketaclinic.dosing.errors import DosingError, DosingErrorCode, HardStopsNotOverridden, InvalidDoseInput
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderCosignature
from ketaclinic.dosing.prediction import Prediction, predict, readable_model_name
from ketaclinic.dosing.protocol import DosingProtocol, dosing_protocol, population_of
from ketaclinic.patients.models import AllergyEntry, Patient, SexAssignedAtBirth
from ketaclinic.patients.rules import age_in_years, allergies_to
from ketaclinic.patients.services import allergy_status_of


@dataclass(frozen=True)
class OrderDraft:
    """What a prescriber enters for one infusion."""

    weight_kg: Decimal
    weight_measured_on: dt.date
    dose_mg_per_kg: Decimal
    duration_min: int
    vial_concentration_mg_per_ml: Decimal
    diluent_volume_ml: Decimal
    height_cm: Decimal | None = None
    note: str = ""


@dataclass(frozen=True)
class Calculation:
    """Everything an order would be, before it is saved: the numbers, the curve and the findings."""

    patient: Patient
    age_years: int
    today: dt.date
    eligibility: rules.EligibilityStatus
    protocol: DosingProtocol
    inputs: rules.OrderInputs
    computation: rules.OrderComputation
    prediction: Prediction
    findings: list[rules.Finding]

    @property
    def hard_stops(self) -> list[rules.Finding]:
        return rules.hard_stops(self.findings)

    @property
    def warnings(self) -> list[rules.Finding]:
        return [finding for finding in self.findings if not finding.is_hard_stop]


def body_sex(patient: Patient) -> rules.BodySex:
    """The sex Devine's formula uses: recorded male or female, otherwise unknown (the lower weight)."""
    if patient.sex_assigned_at_birth == SexAssignedAtBirth.MALE:
        return rules.BodySex.MALE
    if patient.sex_assigned_at_birth == SexAssignedAtBirth.FEMALE:
        return rules.BodySex.FEMALE
    return rules.BodySex.UNKNOWN


def _eligibility(patient: Patient) -> rules.EligibilityStatus:
    from ketaclinic.dosing.selectors import eligibility_status_for

    return eligibility_status_for(patient=patient)


def _has_signed_plan(patient: Patient) -> bool:
    from ketaclinic.plans.selectors import booking_terms_for

    terms = booking_terms_for(patient=patient)
    return terms is not None and terms.phase != "ended"


def _ketamine_allergies(patient: Patient) -> tuple[str, ...]:
    """The patient's active allergies that rule out ketamine, described as recorded."""
    status = allergy_status_of(patient)
    matched = {entry.entry_id for entry in allergies_to("ketamine", status.active_allergies)}
    return tuple(
        entry.substance + (f" ({entry.reaction})" if entry.reaction else "")
        for entry in AllergyEntry.objects.filter(pk__in=matched).order_by("recorded_at", "pk")
    )


def _context(
    patient: Patient,
    protocol: DosingProtocol,
    *,
    age_years: int,
    today: dt.date,
    weight_measured_on: dt.date,
    eligibility: rules.EligibilityStatus,
    peak_ng_per_ml: Decimal | None,
    model_name: str,
    fitted_range_notes: tuple[str, ...],
) -> rules.OrderContext:
    return rules.OrderContext(
        age_years=age_years,
        population=protocol.population,
        eligibility=eligibility,
        weight_measured_on=weight_measured_on,
        today=today,
        predicted_peak_ng_per_ml=peak_ng_per_ml,
        pk_model_name=model_name,
        pk_fitted_range_notes=fitted_range_notes,
        has_signed_plan=_has_signed_plan(patient),
        ketamine_allergies=_ketamine_allergies(patient),
    )


def _calculate(patient: Patient, draft: OrderDraft) -> Calculation:
    today = clock.today_in(patient.clinic.time_zone)
    if draft.weight_measured_on > today:
        raise InvalidDoseInput(
            "The weight cannot have been measured in the future.", field="weight_measured_on"
        )
    age_years = age_in_years(patient.date_of_birth, today)
    protocol = dosing_protocol(population_of(age_years))
    inputs = rules.OrderInputs(
        weight_kg=draft.weight_kg,
        height_cm=draft.height_cm,
        sex=body_sex(patient),
        dose_mg_per_kg=draft.dose_mg_per_kg,
        duration_min=draft.duration_min,
        vial_concentration_mg_per_ml=draft.vial_concentration_mg_per_ml,
        diluent_volume_ml=draft.diluent_volume_ml,
    )
    computation = rules.compute_order(inputs, protocol.limits)
    prediction = predict(
        model_key=protocol.pk_model_key,
        weight_kg=draft.weight_kg,
        age_years=age_years,
        dose_mg=computation.dose_mg,
        duration_min=draft.duration_min,
    )
    eligibility = _eligibility(patient)
    context = _context(
        patient,
        protocol,
        age_years=age_years,
        today=today,
        weight_measured_on=draft.weight_measured_on,
        eligibility=eligibility,
        peak_ng_per_ml=prediction.peak_ng_per_ml,
        model_name=prediction.model_name,
        fitted_range_notes=prediction.fitted_range_notes,
    )
    return Calculation(
        patient=patient,
        age_years=age_years,
        today=today,
        eligibility=eligibility,
        protocol=protocol,
        inputs=inputs,
        computation=computation,
        prediction=prediction,
        findings=rules.order_findings(inputs, computation, context, protocol.limits),
    )


def calculate_order(*, by: Actor, patient: Patient, draft: OrderDraft) -> Calculation:
    """The order a draft would make, without saving it (the form's live figures, the API's /calculate).

    Only prescribers may calculate: the nurse's co-signature is an independent check, not our arithmetic.
    """
    require(by, Perm.PRESCRIBE)
    require_clinic(by, patient.clinic_id, what="patient")
    calculation = _calculate(patient, draft)
    record_read(
        by=by,
        object_type=ObjectType.DOSE_CALCULATION,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        summary=f"{draft.dose_mg_per_kg} mg/kg, {draft.weight_kg} kg: {calculation.computation.dose_mg} mg",
    )
    return calculation


def current_findings(order: DoseOrder) -> list[rules.Finding]:
    """The order's findings as of now: its stored figures against today's date, eligibility and protocol.

    A hard stop can appear after prescribing (the weight is a day older, the patient was found not
    eligible, the protocol's limit was lowered); the co-signature waits until each is overridden.
    """
    patient = order.patient
    today = clock.today_in(patient.clinic.time_zone)
    age_years = age_in_years(patient.date_of_birth, today)
    protocol = dosing_protocol(population_of(age_years))
    inputs = inputs_of(order)
    weight = rules.DosingWeight(
        weight_kg=order.dosing_weight_kg,
        basis=rules.WeightBasis(order.weight_basis),
        body_mass_index_kg_per_m2=order.body_mass_index_kg_per_m2,
        ideal_weight_kg=None,
        notes=(),
    )
    computation = rules.OrderComputation(
        dosing_weight=weight,
        dose_mg=order.dose_mg,
        drug_volume_ml=order.drug_volume_ml,
        total_volume_ml=order.total_volume_ml,
        final_concentration_mg_per_ml=order.final_concentration_mg_per_ml,
        rate_ml_per_h=order.rate_ml_per_h,
        rate_mg_per_min=order.rate_mg_per_min,
        calculated_dose_mg=order.calculated_dose_mg,
    )
    context = _context(
        patient,
        protocol,
        age_years=age_years,
        today=today,
        weight_measured_on=order.weight_measured_on,
        eligibility=_eligibility(patient),
        peak_ng_per_ml=order.predicted_peak_ng_per_ml,
        model_name=readable_model_name(order.pk_model_key),
        fitted_range_notes=(),
    )
    return rules.order_findings(inputs, computation, context, protocol.limits)


def inputs_of(order: DoseOrder) -> rules.OrderInputs:
    return rules.OrderInputs(
        weight_kg=order.weight_kg,
        height_cm=order.height_cm,
        sex=rules.BodySex(order.sex_for_ideal_weight),
        dose_mg_per_kg=order.dose_mg_per_kg,
        duration_min=order.duration_min,
        vial_concentration_mg_per_ml=order.vial_concentration_mg_per_ml,
        diluent_volume_ml=order.diluent_volume_ml,
    )


def _create_override(*, by: Actor, order: DoseOrder, finding: rules.Finding, reason: str) -> HardStopOverride:
    override = HardStopOverride.objects.create(
        order=order,
        code=finding.code.value,
        message=finding.message,
        reason=reason,
        overridden_by=by,
        overridden_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=order.patient,
        action=Action.CREATE,
        object_type=ObjectType.HARD_STOP_OVERRIDE,
        object_id=override.pk,
        summary=f"overrode {finding.code}",
    )
    return override


def _prescribe(
    *,
    by: Actor,
    patient: Patient,
    draft: OrderDraft,
    overrides: Mapping[str, str],
    supersedes: DoseOrder | None,
    supersede_reason: str,
) -> DoseOrder:
    calculation = _calculate(patient, draft)
    reasons = {code: reason.strip() for code, reason in overrides.items() if reason.strip()}
    hard = calculation.hard_stops
    missing = [finding for finding in hard if finding.code.value not in reasons]
    if missing:
        raise HardStopsNotOverridden(
            tuple(finding.code.value for finding in missing), tuple(finding.message for finding in missing)
        )
    if hard:
        require(by, Perm.OVERRIDE_HARD_STOP)
    for finding in hard:
        clean_reason(reasons[finding.code.value], field=f"override_{finding.code.value}")
    computation = calculation.computation
    prediction = calculation.prediction
    order = DoseOrder.objects.create(
        patient=patient,
        clinic=patient.clinic,
        weight_kg=draft.weight_kg,
        weight_measured_on=draft.weight_measured_on,
        height_cm=draft.height_cm,
        sex_for_ideal_weight=calculation.inputs.sex.value,
        dose_mg_per_kg=draft.dose_mg_per_kg,
        duration_min=draft.duration_min,
        vial_concentration_mg_per_ml=draft.vial_concentration_mg_per_ml,
        diluent_volume_ml=draft.diluent_volume_ml,
        note=draft.note.strip(),
        population=calculation.protocol.population.value,
        weight_basis=computation.dosing_weight.basis.value,
        body_mass_index_kg_per_m2=computation.dosing_weight.body_mass_index_kg_per_m2,
        dosing_weight_kg=computation.dosing_weight_kg,
        dose_mg=computation.dose_mg,
        calculated_dose_mg=computation.calculated_dose_mg,
        drug_volume_ml=computation.drug_volume_ml,
        total_volume_ml=computation.total_volume_ml,
        final_concentration_mg_per_ml=computation.final_concentration_mg_per_ml,
        rate_ml_per_h=computation.rate_ml_per_h,
        rate_mg_per_min=computation.rate_mg_per_min,
        pk_model_key=prediction.model_key,
        predicted_peak_ng_per_ml=prediction.peak_ng_per_ml,
        predicted_peak_at_min=prediction.peak_at_min,
        findings=rules.findings_snapshot(calculation.findings),
        protocol_snapshot=calculation.protocol.snapshot(),
        prescribed_by=by,
        prescribed_at=clock.now(),
        supersedes=supersedes,
        supersede_reason=supersede_reason,
    )
    summary = (
        f"prescribed {rules.show(order.dose_mg)} mg ({rules.show(order.dose_mg_per_kg)} mg/kg) "
        f"over {order.duration_min} min" + (f", superseding order {supersedes.pk}" if supersedes else "")
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.DOSE_ORDER,
        object_id=order.pk,
        summary=summary,
    )
    for finding in hard:
        _create_override(by=by, order=order, finding=finding, reason=reasons[finding.code.value])
    return order


@transaction.atomic
def prescribe_dose_order(
    *, by: Actor, patient: Patient, draft: OrderDraft, overrides: Mapping[str, str] | None = None
) -> DoseOrder:
    """Compute, check and sign a new order.

    Refused (HardStopsNotOverridden, 409, listing them) unless each hard stop is overridden in this call:
    `overrides` maps a finding code to its reason, and the prescriber needs OVERRIDE_HARD_STOP.
    """
    require(by, Perm.PRESCRIBE)
    require_clinic(by, patient.clinic_id, what="patient")
    return _prescribe(
        by=by, patient=patient, draft=draft, overrides=overrides or {}, supersedes=None, supersede_reason=""
    )


def _lock(order: DoseOrder) -> DoseOrder:
    # Two co-signers (or a co-signer and a superseding prescriber) pressing at once: one waits for the other.
    return DoseOrder.objects.select_for_update().select_related("patient__clinic").get(pk=order.pk)


def _refuse_if_superseded(order: DoseOrder) -> None:
    if DoseOrder.objects.filter(supersedes=order).exists():
        raise DosingError(
            DosingErrorCode.SUPERSEDED, "This order was superseded by a newer one: work from that one."
        )


@transaction.atomic
def supersede_dose_order(
    *,
    by: Actor,
    order: DoseOrder,
    draft: OrderDraft,
    reason: str,
    overrides: Mapping[str, str] | None = None,
) -> DoseOrder:
    """A new order replacing `order` (which stays, marked superseded), with the reason for the change."""
    require(by, Perm.PRESCRIBE)
    require_clinic(by, order.patient.clinic_id, what="patient")
    order = _lock(order)
    _refuse_if_superseded(order)
    why = clean_reason(reason, field="supersede_reason")
    return _prescribe(
        by=by,
        patient=order.patient,
        draft=draft,
        overrides=overrides or {},
        supersedes=order,
        supersede_reason=why,
    )


@transaction.atomic
def override_hard_stop(*, by: Actor, order: DoseOrder, code: str, reason: str) -> HardStopOverride:
    """Override one hard stop the order has now (one that appeared after prescribing), with a reason."""
    require(by, Perm.OVERRIDE_HARD_STOP)
    require_clinic(by, order.patient.clinic_id, what="patient")
    order = _lock(order)
    _refuse_if_superseded(order)
    if OrderCosignature.objects.filter(order=order).exists():
        raise DosingError(DosingErrorCode.ALREADY_COSIGNED, "This order is already co-signed.")
    if HardStopOverride.objects.filter(order=order, code=code).exists():
        raise DosingError(DosingErrorCode.ALREADY_OVERRIDDEN, "This hard stop is already overridden.")
    finding = next((f for f in rules.hard_stops(current_findings(order)) if f.code.value == code), None)
    if finding is None:
        raise DosingError(
            DosingErrorCode.OVERRIDE_NOT_NEEDED, "The order has no such hard stop now.", field="code"
        )
    return _create_override(by=by, order=order, finding=finding, reason=clean_reason(reason))


@transaction.atomic
def cosign_dose_order(*, by: Actor, order: DoseOrder, entered_rate_ml_per_h: Decimal) -> OrderCosignature:
    """The second person's check: they worked out the pump rate themselves and it matches.

    Refused when the co-signer prescribed the order, when it was superseded or is already co-signed, while
    it has a hard stop nobody has overridden, and when the entered rate is more than one rounding step
    from the computed one (the message does not reveal the computed rate).
    """
    require(by, Perm.COSIGN_DOSE_ORDER)
    require_clinic(by, order.patient.clinic_id, what="patient")
    order = _lock(order)
    if order.prescribed_by_id == by.pk:
        raise DosingError(
            DosingErrorCode.SAME_PERSON,
            "A second person co-signs: the prescriber cannot co-sign their own order.",
        )
    _refuse_if_superseded(order)
    if OrderCosignature.objects.filter(order=order).exists():
        raise DosingError(DosingErrorCode.ALREADY_COSIGNED, "This order is already co-signed.")
    overridden = HardStopOverride.objects.filter(order=order).values_list("code", flat=True)
    unresolved = rules.unresolved_hard_stops(current_findings(order), overridden)
    if unresolved:
        raise HardStopsNotOverridden(
            tuple(finding.code.value for finding in unresolved),
            tuple(finding.message for finding in unresolved),
        )
    step = dosing_protocol(population_of(_age(order.patient))).limits.rounding.rate_ml_per_h
    if entered_rate_ml_per_h <= 0 or not rules.rate_matches(entered_rate_ml_per_h, order.rate_ml_per_h, step):
        raise DosingError(
            DosingErrorCode.RATE_MISMATCH,
            "The pump rate you worked out does not match the order. Check it again from the order "
            "(bag volume x 60 / minutes) and speak to the prescriber before the infusion.",
            field="entered_rate_ml_per_h",
        )
    cosignature = OrderCosignature.objects.create(
        order=order, entered_rate_ml_per_h=entered_rate_ml_per_h, cosigned_by=by, cosigned_at=clock.now()
    )
    record_patient_change(
        by=by,
        patient=order.patient,
        action=Action.CREATE,
        object_type=ObjectType.DOSE_ORDER_COSIGNATURE,
        object_id=cosignature.pk,
        summary=f"co-signed order {order.pk}",
    )
    return cosignature


def _age(patient: Patient) -> int:
    return age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))


def propose_titration(
    *, by: Actor, patient: Patient, response_reduction_percent: Decimal | None, tolerated: bool
) -> tuple[DoseOrder, rules.TitrationProposal]:
    """The next dose per kg proposed from the patient's latest current order, the response so far (percent
    reduction, entered by the clinician) and tolerability. Nothing is saved; the read is audited."""
    require(by, Perm.PRESCRIBE)
    require_clinic(by, patient.clinic_id, what="patient")
    previous = (
        DoseOrder.objects.filter(patient=patient, superseded_by__isnull=True)
        .order_by("-prescribed_at", "-pk")
        .first()
    )
    if previous is None:
        raise DosingError(
            DosingErrorCode.NO_PREVIOUS_ORDER, "This patient has no dose order to titrate from."
        )
    if response_reduction_percent is not None and not Decimal(0) <= response_reduction_percent <= Decimal(
        100
    ):
        raise InvalidDoseInput(
            "The reduction is a percentage from 0 to 100.", field="response_reduction_percent"
        )
    protocol = dosing_protocol(population_of(_age(patient)))
    proposal = rules.propose_titration(
        previous_dose_mg_per_kg=previous.dose_mg_per_kg,
        response_reduction_percent=response_reduction_percent,
        tolerated=tolerated,
        step_mg_per_kg=protocol.titration_step_mg_per_kg,
        ceiling_mg_per_kg=protocol.titration_ceiling_mg_per_kg,
        floor_mg_per_kg=protocol.limits.dose_range_min_mg_per_kg,
        response_threshold_percent=protocol.response_threshold_percent,
    )
    record_read(
        by=by,
        object_type=ObjectType.DOSE_TITRATION,
        object_id=previous.pk,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        summary=f"proposed {proposal.step} to {proposal.dose_mg_per_kg} mg/kg",
    )
    return previous, proposal


def require_prescriber(by: Actor) -> None:
    """PermissionDenied unless `by` may prescribe (checked before any patient is looked up)."""
    require(by, Perm.PRESCRIBE)
