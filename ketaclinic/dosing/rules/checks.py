"""Hard stops and warnings for an order, and how overrides resolve them."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ketaclinic.dosing.rules.arithmetic import OrderComputation
from ketaclinic.dosing.rules.terms import (
    DosingLimits,
    EligibilityStatus,
    Finding,
    FindingCode,
    OrderInputs,
    Severity,
    show,
)
from ketaclinic.protocols.rules import Population


@dataclass(frozen=True)
class OrderContext:
    """What the rules need to know beyond the numbers: who, when, and the predicted curve's peak."""

    age_years: int
    population: Population
    eligibility: EligibilityStatus
    weight_measured_on: dt.date
    today: dt.date
    predicted_peak_ng_per_ml: Decimal | None = None
    pk_model_name: str = ""
    pk_fitted_range_notes: tuple[str, ...] = ()
    # A signed, active treatment plan (plans); an order outside one is a hard stop.
    has_signed_plan: bool = True
    # The patient's active allergies that rule out ketamine (patients.rules.allergies_to), as recorded,
    # e.g. "Esketamine (anaphylaxis, severe)"; any one is a hard stop.
    ketamine_allergies: tuple[str, ...] = ()


def _hard(code: FindingCode, message: str) -> Finding:
    return Finding(code, Severity.HARD_STOP, message)


def _warn(code: FindingCode, message: str) -> Finding:
    return Finding(code, Severity.WARNING, message)


def _eligibility_findings(status: EligibilityStatus) -> list[Finding]:
    match status:
        case EligibilityStatus.NONE_RECORDED:
            return [
                _hard(
                    FindingCode.NO_ELIGIBILITY_DECISION,
                    "No eligibility decision is recorded for this patient.",
                )
            ]
        case EligibilityStatus.NOT_ELIGIBLE:
            return [_hard(FindingCode.NOT_ELIGIBLE, "The patient was assessed as not eligible.")]
        case EligibilityStatus.ELIGIBLE_WITH_CONDITIONS:
            return [
                _warn(
                    FindingCode.ELIGIBLE_WITH_CONDITIONS,
                    "The patient is eligible with conditions: check them before the infusion.",
                )
            ]
        case EligibilityStatus.ELIGIBLE:
            return []


def _dose_findings(inputs: OrderInputs, computation: OrderComputation, limits: DosingLimits) -> list[Finding]:
    found: list[Finding] = []
    per_kg = inputs.dose_mg_per_kg
    if per_kg > limits.dose_hard_stop_mg_per_kg:
        found.append(
            _hard(
                FindingCode.DOSE_ABOVE_HARD_STOP,
                f"{show(per_kg)} mg/kg is above the hard-stop maximum of "
                f"{show(limits.dose_hard_stop_mg_per_kg)} mg/kg.",
            )
        )
    elif per_kg > limits.dose_range_max_mg_per_kg:
        found.append(
            _warn(
                FindingCode.DOSE_ABOVE_USUAL_RANGE,
                f"{show(per_kg)} mg/kg is above the usual range "
                f"({show(limits.dose_range_min_mg_per_kg)} to "
                f"{show(limits.dose_range_max_mg_per_kg)} mg/kg).",
            )
        )
    if per_kg < limits.dose_range_min_mg_per_kg:
        found.append(
            _warn(
                FindingCode.DOSE_BELOW_USUAL_RANGE,
                f"{show(per_kg)} mg/kg is below the usual range "
                f"({show(limits.dose_range_min_mg_per_kg)} to "
                f"{show(limits.dose_range_max_mg_per_kg)} mg/kg).",
            )
        )
    if computation.dose_mg > limits.dose_total_ceiling_mg:
        found.append(
            _hard(
                FindingCode.TOTAL_DOSE_ABOVE_CEILING,
                f"A total dose of {show(computation.dose_mg)} mg is above the ceiling of "
                f"{show(limits.dose_total_ceiling_mg)} mg per infusion.",
            )
        )
    return found


def _weight_findings(inputs: OrderInputs, context: OrderContext, limits: DosingLimits) -> list[Finding]:
    found: list[Finding] = []
    if not limits.weight_plausible_min_kg <= inputs.weight_kg <= limits.weight_plausible_max_kg:
        found.append(
            _hard(
                FindingCode.WEIGHT_IMPLAUSIBLE,
                f"A weight of {show(inputs.weight_kg)} kg is outside the plausible "
                f"{show(limits.weight_plausible_min_kg)} to {show(limits.weight_plausible_max_kg)} kg: "
                "was it entered in pounds?",
            )
        )
    age_days = (context.today - context.weight_measured_on).days
    if age_days > limits.weight_measured_max_age_days:
        allowed = (
            "on the day of the order"
            if limits.weight_measured_max_age_days == 0
            else f"within {limits.weight_measured_max_age_days} day(s)"
        )
        found.append(
            _hard(
                FindingCode.WEIGHT_STALE,
                f"The weight was measured {age_days} day(s) ago; the protocol needs it measured {allowed}.",
            )
        )
    return found


def order_findings(
    inputs: OrderInputs, computation: OrderComputation, context: OrderContext, limits: DosingLimits
) -> list[Finding]:
    """Every hard stop and warning for an order, hard stops first, in a stable order."""
    found: list[Finding] = []
    found += _eligibility_findings(context.eligibility)
    if not context.has_signed_plan:
        found.append(_hard(FindingCode.NO_SIGNED_PLAN, "The patient has no signed, active treatment plan."))
    if context.ketamine_allergies:
        found.append(
            _hard(
                FindingCode.KETAMINE_ALLERGY,
                "The patient's record lists an allergy that rules out ketamine: "
                + "; ".join(context.ketamine_allergies)
                + ".",
            )
        )
    if context.age_years < limits.minimum_patient_age_years:
        found.append(
            _hard(
                FindingCode.BELOW_MINIMUM_AGE,
                f"The patient is {context.age_years}; the protocol treats patients from age "
                f"{limits.minimum_patient_age_years}.",
            )
        )
    found += _dose_findings(inputs, computation, limits)
    found += _weight_findings(inputs, context, limits)
    if not limits.duration_shortest_min <= inputs.duration_min <= limits.duration_longest_min:
        found.append(
            _hard(
                FindingCode.DURATION_OUTSIDE_RANGE,
                f"{inputs.duration_min} minutes is outside the {limits.duration_shortest_min} to "
                f"{limits.duration_longest_min} minutes the protocol allows.",
            )
        )
    if inputs.vial_concentration_mg_per_ml not in limits.vial_strengths_mg_per_ml:
        stocked = ", ".join(show(strength) for strength in limits.vial_strengths_mg_per_ml)
        found.append(
            _hard(
                FindingCode.VIAL_STRENGTH_NOT_STOCKED,
                f"{show(inputs.vial_concentration_mg_per_ml)} mg/mL is not a vial strength the protocol "
                f"lists ({stocked} mg/mL).",
            )
        )
    peak = context.predicted_peak_ng_per_ml
    if peak is not None and peak > limits.pk_peak_ceiling_ng_per_ml:
        found.append(
            _warn(
                FindingCode.PREDICTED_PEAK_ABOVE_CEILING,
                f"The {context.pk_model_name} model predicts a peak of {show(peak)} ng/mL, above the "
                f"protocol's ceiling of {show(limits.pk_peak_ceiling_ng_per_ml)} ng/mL.",
            )
        )
    if context.pk_fitted_range_notes:
        found.append(
            _warn(
                FindingCode.PK_MODEL_OUTSIDE_FITTED_RANGE,
                f"The {context.pk_model_name} model was not fitted on patients like this one ("
                + "; ".join(context.pk_fitted_range_notes)
                + "): read the predicted curve with care.",
            )
        )
    found += computation.dosing_weight.notes
    return sorted(found, key=lambda finding: 0 if finding.is_hard_stop else 1)


def hard_stops(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.is_hard_stop]


def unresolved_hard_stops(findings: Iterable[Finding], overridden_codes: Iterable[str]) -> list[Finding]:
    """The hard stops no override covers."""
    covered = set(overridden_codes)
    return [finding for finding in hard_stops(findings) if finding.code.value not in covered]


def findings_from_snapshot(rows: Sequence[dict[str, str]]) -> list[Finding]:
    """Findings stored with an order (code, severity, message) back as Findings."""
    return [Finding(FindingCode(row["code"]), Severity(row["severity"]), row["message"]) for row in rows]


def findings_snapshot(findings: Iterable[Finding]) -> list[dict[str, str]]:
    return [
        {"code": finding.code.value, "severity": finding.severity.value, "message": finding.message}
        for finding in findings
    ]
