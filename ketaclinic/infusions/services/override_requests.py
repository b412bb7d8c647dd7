"""A nurse asks a clinician for a discharge override; the clinician grants it (with a reason) or declines.

The request records who asked, why, and the criteria unmet at that moment. A grant covers those criteria
only: a criterion that becomes unmet afterwards (a new action alert, say) needs a new request. Both rows are
append-only; the newest request of a visit is the one that counts.
"""

from dataclasses import dataclass

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.formats import plural
from ketaclinic.core.inputs import clean_reason
from ketaclinic.infusions import rules
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode
from ketaclinic.infusions.models import (
    DischargeOverrideDecision,
    DischargeOverrideRequest,
    InfusionVisit,
)
from ketaclinic.infusions.services.common import (
    announce,
    audit,
    lock_visit,
    refuse_if_discharged,
    require_clinic,
)


def latest_request(visit: InfusionVisit) -> DischargeOverrideRequest | None:
    """The visit's newest override request, with its decision when there is one."""
    return (
        DischargeOverrideRequest.objects.filter(visit=visit)
        .select_related("requested_by", "decision", "decision__decided_by")
        .order_by("-requested_at", "-pk")
        .first()
    )


def decision_of(request: DischargeOverrideRequest) -> DischargeOverrideDecision | None:
    try:
        return request.decision
    except DischargeOverrideDecision.DoesNotExist:
        return None


@dataclass(frozen=True)
class OverrideStanding:
    """Where the visit's newest request stands: none, waiting for a clinician, granted or declined."""

    request: DischargeOverrideRequest | None
    decision: DischargeOverrideDecision | None

    @property
    def pending(self) -> bool:
        return self.request is not None and self.decision is None

    @property
    def granted(self) -> bool:
        return self.decision is not None and self.decision.granted

    @property
    def declined(self) -> bool:
        return self.decision is not None and not self.decision.granted

    def covers(self, blockers: tuple[rules.Blocker, ...]) -> bool:
        """True when granted and every criterion unmet now was unmet (so granted) at the request."""
        if not self.granted or self.request is None:
            return False
        granted_codes = {str(item["code"]) for item in self.request.blockers}
        return all(blocker.code.value in granted_codes for blocker in blockers)


def override_standing(visit: InfusionVisit) -> OverrideStanding:
    request = latest_request(visit)
    return OverrideStanding(request=request, decision=decision_of(request) if request is not None else None)


@transaction.atomic
def request_discharge_override(*, by: Actor, visit: InfusionVisit, reason: str) -> DischargeOverrideRequest:
    """Ask a clinician to let the patient go before every discharge criterion is met, saying why. Refused
    while the infusion runs, when nothing is unmet, or while an earlier request waits for an answer. Returns
    the request, with the unmet criteria it covers."""
    # Imported here: discharge imports this module to honour a grant.
    from ketaclinic.infusions.services.discharge import discharge_readiness, recorded_escort

    require(by, Perm.RUN_INFUSION)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    text = clean_reason(reason, what="Say why the patient should go before every criterion is met.")
    readiness = discharge_readiness(visit, escort_confirmed=recorded_escort(visit))
    if readiness.infusion_running:
        raise InfusionConflict(
            InfusionErrorCode.NOT_STOPPED,
            "The infusion is still running: stop it before asking for an override.",
        )
    if not readiness.blockers:
        raise InfusionConflict(
            InfusionErrorCode.OVERRIDE_NOT_NEEDED, "Every discharge criterion is met: no override is needed."
        )
    if override_standing(visit).pending:
        raise InfusionConflict(
            InfusionErrorCode.OVERRIDE_PENDING, "A clinician has already been asked: wait for their answer."
        )
    request = DischargeOverrideRequest.objects.create(
        visit=visit,
        blockers=[{"code": blocker.code.value, "message": blocker.message} for blocker in readiness.blockers],
        reason=text,
        requested_by=by,
        requested_at=clock.now(),
    )
    unmet = plural(len(readiness.blockers), "unmet criterion", "unmet criteria")
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_DISCHARGE_OVERRIDE_REQUEST,
        request.pk,
        f"Discharge override asked for {unmet}",
    )
    announce(visit.pk)
    return request


@transaction.atomic
def decide_discharge_override(
    *, by: Actor, request: DischargeOverrideRequest, grant: bool, reason: str
) -> DischargeOverrideDecision:
    """A clinician grants (a clinical reason is required) or declines (a reason is optional) a waiting
    request. Only someone who may override a hard stop decides. Returns the decision."""
    require(by, Perm.OVERRIDE_HARD_STOP)
    require_clinic(by, request.visit.clinic_id)
    visit = lock_visit(request.visit)
    refuse_if_discharged(visit)
    request = DischargeOverrideRequest.objects.get(pk=request.pk)
    if decision_of(request) is not None:
        raise InfusionConflict(InfusionErrorCode.OVERRIDE_DECIDED, "This request has already been answered.")
    if grant:
        text = clean_reason(reason, what="Give the clinical reason for letting the patient go now.")
    else:
        text = clean_reason(reason) if reason.strip() else ""
    decision = DischargeOverrideDecision.objects.create(
        request=request, granted=grant, reason=text, decided_by=by, decided_at=clock.now()
    )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_DISCHARGE_OVERRIDE_DECISION,
        decision.pk,
        "Discharge override granted" if grant else "Discharge override declined",
    )
    announce(visit.pk)
    return decision
