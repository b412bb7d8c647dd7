"""Hard-stop overrides and the signed eligibility decision."""

from typing import Any

from django.db import transaction

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.patients.models import Patient
from ketaclinic.screening import rules
from ketaclinic.screening.errors import ScreeningDomainError, ScreeningError
from ketaclinic.screening.models import EligibilityDecision, HardStopOverride, SignedOutcome
from ketaclinic.screening.selectors import assessment_state
from ketaclinic.screening.services._common import audit, require_patient


@transaction.atomic
def override_hard_stop(*, by: Actor, patient: Patient, finding_code: str, reason: str) -> HardStopOverride:
    """Override one current hard stop with a reason: its own append-only row (OVERRIDE_HARD_STOP)."""
    require_patient(by, patient, Perm.OVERRIDE_HARD_STOP)
    state = assessment_state(patient=patient)
    stop = next((finding for finding in state.hard_stops if finding.code == finding_code), None)
    if stop is None:
        raise ScreeningDomainError(
            ScreeningError.NOT_A_HARD_STOP,
            "That is not a current hard stop for this patient.",
            field="finding_code",
        )
    if finding_code in state.overridden_codes:
        raise ScreeningDomainError(ScreeningError.ALREADY_OVERRIDDEN, "That hard stop is already overridden.")
    if not reason.strip():
        raise ScreeningDomainError(
            ScreeningError.INVALID, "Give the reason for the override.", field="reason"
        )
    row = HardStopOverride.objects.create(
        patient=patient,
        finding_code=finding_code,
        finding_label=stop.label,
        reason=reason.strip(),
        overridden_by=by,
        overridden_at=clock.now(),
    )
    audit(
        by,
        patient,
        Action.CREATE,
        ObjectType.HARD_STOP_OVERRIDE,
        row.pk,
        f"hard stop overridden: {finding_code}",
    )
    return row


def _finding_snapshot(finding: rules.Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "label": finding.label,
        "source": finding.source,
        "because": list(finding.because),
    }


@transaction.atomic
def sign_eligibility(
    *,
    by: Actor,
    patient: Patient,
    proposed: rules.Outcome,
    reasons: str,
    conditions: str = "",
    alternatives: str = "",
    warning_decisions: dict[str, str] | None = None,
) -> EligibilityDecision:
    """Sign the eligibility decision. The rules decide the outcome from the proposal, the findings, the
    overrides and the documented warning decisions; BLOCKED raises (nothing is signed). Stores the protocol
    values read (key, population, version, value id), the findings and the overrides in force."""
    require_patient(by, patient, Perm.SIGN_ELIGIBILITY)
    state = assessment_state(patient=patient)
    documented = {code: text.strip() for code, text in (warning_decisions or {}).items() if text.strip()}
    decision = rules.decide(
        proposed=proposed,
        findings=state.findings,
        overridden=state.overridden_codes,
        documented=documented,
        consent_missing=state.consent_missing,
        unanswered=state.unanswered_labels,
    )
    if decision.outcome is rules.Outcome.BLOCKED and state.unanswered:
        raise ScreeningDomainError(
            ScreeningError.QUESTIONS_UNANSWERED,
            "Cannot sign yet: " + "; ".join(decision.reasons) + ". Ask them and save the history first.",
            field="proposed",
        )
    if decision.outcome is rules.Outcome.BLOCKED:
        raise ScreeningDomainError(
            ScreeningError.BLOCKED, "Cannot sign yet: " + "; ".join(decision.reasons) + ".", field="proposed"
        )
    if not reasons.strip():
        raise ScreeningDomainError(
            ScreeningError.INVALID, "Give the reasons for the decision.", field="reasons"
        )
    if decision.outcome is rules.Outcome.ELIGIBLE_WITH_CONDITIONS and not conditions.strip():
        raise ScreeningDomainError(
            ScreeningError.INVALID,
            "State the conditions (the findings make this eligible only with conditions).",
            field="conditions",
        )
    if decision.outcome is rules.Outcome.NOT_ELIGIBLE and not alternatives.strip():
        raise ScreeningDomainError(
            ScreeningError.INVALID,
            "Suggest what instead (for example psychotherapy, TMS, ECT).",
            field="alternatives",
        )
    row = EligibilityDecision.objects.create(
        patient=patient,
        outcome=SignedOutcome(decision.outcome.value),
        proposed_outcome=proposed.value,
        population=state.population,
        end_of_life_pathway=state.end_of_life_pathway,
        reasons=reasons.strip(),
        conditions=conditions.strip(),
        alternatives=alternatives.strip(),
        findings=[_finding_snapshot(finding) for finding in state.findings],
        warning_decisions={
            code: text for code, text in documented.items() if code in {f.code for f in state.warnings}
        },
        override_ids=[override.pk for override in state.overrides],
        protocol_readings=state.readings_snapshot(),
        signed_by=by,
        signed_at=clock.now(),
    )
    audit(
        by,
        patient,
        Action.CREATE,
        ObjectType.ELIGIBILITY_DECISION,
        row.pk,
        f"eligibility signed: {row.outcome}",
    )
    return row
