"""Side effects, the serious-event review, and rescue drugs (a controlled one drawn from the ledger)."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.core.inputs import clean_reason
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import (
    CorrectableRow,
    DrugGiven,
    EnteredInError,
    InfusionVisit,
    SeriousEventReview,
    SideEffect,
)
from ketaclinic.infusions.services.common import (
    announce,
    audit,
    lock_visit,
    moment_in_visit,
    refuse_if_discharged,
    require_clinic,
)
from ketaclinic.inventory.models import Vial, WasteMethod
from ketaclinic.inventory.services import draws as ledger
from ketaclinic.inventory.services import witness as witness_services
from ketaclinic.inventory.services.witness import SignedWitness, WitnessCredentials
from ketaclinic.measures.models import Administration
from ketaclinic.patients.models import AllergyEntry
from ketaclinic.patients.rules import allergies_to
from ketaclinic.patients.services import allergy_status_of

# Entries may be written up a little after the event, never in the future beyond clock skew.
TEXT_MAX_LENGTH = 2000
DOSE_PLACES = Decimal("0.001")

CONTROLLED_DRAW_REFUSED = (
    "Midazolam is a controlled drug: it is drawn from the ledger and recorded by the nurse who draws and "
    "gives it. Your role cannot record a controlled-drug draw; ask the nurse to record this dose."
)


def _text(value: str, field: str) -> str:
    text = value.strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, f"At most {TEXT_MAX_LENGTH} characters.", field=field
        )
    return text


def _choice[E: StrEnum](enum: type[E], value: object, field: str, what: str) -> E:
    try:
        return enum(str(value))
    except ValueError:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, f"Choose {what}.", field=field) from None


def _grade(value: object) -> rules.AdverseEventGrade:
    try:
        return rules.AdverseEventGrade(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "Choose a grade from 1 to 5 (CTCAE v5).", field="grade"
        ) from None


def is_withdrawn(row_type: CorrectableRow, row_id: int) -> bool:
    return EnteredInError.objects.filter(row_type=row_type, row_id=row_id).exists()


def _seriousness(visit: InfusionVisit, grade: rules.AdverseEventGrade, serious: bool | None) -> bool:
    """Whether the event is serious: as the staff flagged it, or by the visit's protocol when they did not
    say. Refuses clearing a grade the protocol calls serious."""
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    serious_from_grade = protocol.integer("adverse_event_serious_from_grade")
    by_protocol = rules.is_serious(grade, serious_from_grade=serious_from_grade)
    if serious is False and by_protocol:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"The protocol counts grade {serious_from_grade} and above as serious: a grade {int(grade)} "
            "event cannot be marked not serious.",
            field="serious",
        )
    return by_protocol if serious is None else serious


def _check_cadss_rating(visit: InfusionVisit, kind: rules.SideEffectKind, administration_id: int) -> None:
    """A CADSS rating attached to a side effect belongs to dissociation, and to this visit's patient."""
    if kind is not rules.SideEffectKind.DISSOCIATION:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            "A CADSS rating belongs to dissociation only.",
            field="cadss_administration_id",
        )
    if not Administration.objects.filter(pk=administration_id, patient_id=visit.patient_id).exists():
        raise InfusionRuleError(
            InfusionErrorCode.WRONG_VISIT,
            "No such scale administration for this patient.",
            field="cadss_administration_id",
        )


@transaction.atomic
def record_side_effect(
    *,
    by: Actor,
    visit: InfusionVisit,
    kind: rules.SideEffectKind | str,
    severity: rules.Severity | str,
    grade: rules.AdverseEventGrade | int,
    serious: bool | None,
    description: str,
    management: str,
    onset_at: dt.datetime | None = None,
    cadss_administration_id: int | None = None,
) -> SideEffect:
    """Record a side effect on an open visit. `serious=None` follows the protocol ("serious from grade");
    staff may flag a lower grade serious by hand but never clear a grade the protocol calls serious. A
    serious one waits in the clinicians' review list until reviewed. Returns the stored row."""
    require(by, Perm.RUN_INFUSION)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    kind = _choice(rules.SideEffectKind, kind, "kind", "what the patient has")
    severity = _choice(rules.Severity, severity, "severity", "how severe it is")
    grade = _grade(grade)
    serious = _seriousness(visit, grade, serious)
    text = _text(description, "description")
    if kind is rules.SideEffectKind.OTHER and not text:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            "Describe the side effect (you chose 'Other').",
            field="description",
        )
    if cadss_administration_id is not None:
        _check_cadss_rating(visit, kind, cadss_administration_id)
    effect = SideEffect.objects.create(
        visit=visit,
        kind=kind.value,
        severity=severity.value,
        grade=int(grade),
        serious=serious,
        description=text,
        management=_text(management, "management"),
        onset_at=moment_in_visit(visit, onset_at, field="onset_at"),
        cadss_administration_id=cadss_administration_id,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    flag = " (serious)" if effect.serious else ""
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_SIDE_EFFECT,
        effect.pk,
        f"Side effect {kind.value} grade {int(grade)}{flag}",
    )
    announce(visit.pk)
    return effect


@transaction.atomic
def review_serious_event(*, by: Actor, side_effect: SideEffect, outcome: str) -> SeriousEventReview:
    """A clinician reviews a serious adverse event, once; it then leaves the review list."""
    require(by, Perm.REVIEW_ADVERSE_EVENTS)
    visit = side_effect.visit
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    effect = SideEffect.objects.get(pk=side_effect.pk)
    if not effect.serious:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            "Only serious adverse events are reviewed here.",
            field="side_effect",
        )
    if is_withdrawn(CorrectableRow.SIDE_EFFECT, effect.pk):
        raise InfusionConflict(
            InfusionErrorCode.VISIT_CLOSED, "That side effect was withdrawn as entered in error."
        )
    if SeriousEventReview.objects.filter(side_effect=effect).exists():
        raise InfusionConflict(InfusionErrorCode.ALREADY_SIGNED, "That event has already been reviewed.")
    review = SeriousEventReview.objects.create(
        side_effect=effect,
        outcome=clean_reason(outcome, field="outcome", what="Write the outcome of the review."),
        reviewed_by=by,
        reviewed_at=clock.now(),
    )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_SERIOUS_EVENT_REVIEW,
        review.pk,
        f"Reviewed side effect {effect.pk}",
    )
    announce(visit.pk)
    return review


def _dose(dose_mg: Decimal | int | str) -> Decimal:
    try:
        dose = Decimal(dose_mg)
    except (InvalidOperation, TypeError, ValueError):
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "Give the dose in mg.", field="dose_mg"
        ) from None
    if not dose.is_finite() or dose <= 0:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "Give a dose above zero.", field="dose_mg")
    if dose != dose.quantize(DOSE_PLACES) or dose >= Decimal(1_000_000):
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "Give the dose in mg with at most 3 decimals.", field="dose_mg"
        )
    return dose


def _ledger_vial(visit: InfusionVisit, drug: rules.RescueDrug, vial_id: int | None) -> Vial:
    if vial_id is None:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"{rules.RESCUE_DRUG_NAMES[drug]} is a controlled drug: choose the vial it was drawn from.",
            field="vial_id",
        )
    vial = Vial.objects.select_related("product").filter(pk=vial_id, clinic_id=visit.clinic_id).first()
    if vial is None or vial.product.substance != drug.value:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"That is not a {rules.RESCUE_DRUG_NAMES[drug].lower()} vial of this clinic.",
            field="vial_id",
        )
    return vial


# The second people a drug entry may need, what each must be allowed to do, and in the words of a refusal.
SECOND_PEOPLE: dict[str, tuple[Perm, str]] = {
    "witness": (Perm.WITNESS_STOCK, "witness controlled-substance records"),
    "cosigner": (Perm.OVERRIDE_HARD_STOP, "authorise a dose past a hard stop"),
}


def sign_second_person(
    *,
    by: Actor,
    visit: InfusionVisit,
    role: str,
    credentials: WitnessCredentials | None,
    request: HttpRequest,
    field_prefix: str | None = None,
) -> SignedWitness | None:
    """Check the sign-in of the `role` ('witness' or 'cosigner') when credentials were given; None when not.
    Errors name the fields `<field_prefix>_username` etc. (the role's name by default)."""
    if credentials is None:
        return None
    perm, may_do = SECOND_PEOPLE[role]
    return witness_services.verify_second_person(
        by=by,
        clinic=visit.clinic,
        credentials=credentials,
        request=request,
        perm=perm,
        may_do=may_do,
        field_prefix=field_prefix or role,
    )


def _allergies_to(visit: InfusionVisit, drug: rules.RescueDrug) -> list[str]:
    """The patient's active allergies that rule out `drug`, described as recorded."""
    status = allergy_status_of(visit.patient)
    matched = [entry.entry_id for entry in allergies_to(drug.value, status.active_allergies)]
    return [
        entry.substance + (f" ({entry.reaction})" if entry.reaction else "")
        for entry in AllergyEntry.objects.filter(pk__in=matched).order_by("recorded_at", "pk")
    ]


def _overrider(by: Actor, authorised_by: SignedWitness | None) -> Any:
    """Who overrides a hard stop: the person recording when they may, else the clinician who co-signed."""
    if can(by, Perm.OVERRIDE_HARD_STOP):
        return by
    if authorised_by is not None and can(authorised_by.user, Perm.OVERRIDE_HARD_STOP):
        return authorised_by.user
    raise PermissionDenied(
        "Only a clinician can give a dose past a hard stop, with a reason: the clinician co-signs this entry."
    )


def _hard_stop_override(
    by: Actor, findings: list[rules.DoseFinding], override_reason: str, authorised_by: SignedWitness | None
) -> tuple[str, Any]:
    """The override reason and who overrides, when a finding is a hard stop ("" and None when none is);
    a hard stop without a reason is refused."""
    hard_stops = [finding for finding in findings if finding.is_hard_stop]
    reason = override_reason.strip()
    if hard_stops and not reason:
        raise InfusionRuleError(
            InfusionErrorCode.RESCUE_DOSE_HARD_STOP,
            " ".join(finding.message for finding in hard_stops)
            + " A clinician may give it with a recorded reason.",
            field="dose_mg",
        )
    if not hard_stops:
        return "", None
    overrider = _overrider(by, authorised_by)
    return clean_reason(reason, field="override_reason"), overrider


def _stored_findings(findings: list[rules.DoseFinding], reason: str) -> list[dict[str, object]]:
    """The findings as the row stores them, each hard stop with the reason it was overridden for."""
    stored: list[dict[str, object]] = []
    for finding in findings:
        entry: dict[str, object] = {
            "code": finding.code,
            "message": finding.message,
            "is_hard_stop": finding.is_hard_stop,
        }
        if finding.is_hard_stop:
            entry["override_reason"] = reason
        stored.append(entry)
    return stored


def _draw_controlled_dose(
    *,
    by: Actor,
    visit: InfusionVisit,
    drug: rules.RescueDrug,
    vial_id: int | None,
    dose: Decimal,
    witness: SignedWitness | None,
) -> tuple[int, int]:
    """Draw a controlled rescue dose from the clinic's vial and record it as given on the ledger (the rest of
    a single-dose vial wasted before `witness`); the ids of the draw and the administration entries."""
    vial = _ledger_vial(visit, drug, vial_id)
    # A single-dose vial cannot be drawn from twice: draw all of it, give the dose, waste the rest.
    drawn = dose if vial.product.multi_dose else max(vial.balance_mg, dose)
    remainder = drawn - dose
    if remainder > 0 and witness is None:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"{vial.label} is a single-dose vial: {remainder} mg will be wasted, which needs a witness.",
            field="witness",
        )
    draw = ledger.draw_from_vial(
        by=by, vial_id=vial.pk, amount_mg=drawn, patient=visit.patient, visit_id=visit.pk
    )
    given = ledger.record_administration(by=by, draw_id=draw.pk, amount_mg=dose, visit_id=visit.pk)
    if remainder > 0 and witness is not None:
        ledger.record_waste(
            by=by,
            draw_id=draw.pk,
            amount_mg=remainder,
            method=WasteMethod.DENATURING_CONTAINER,
            reason="Rest of a single-dose vial after a rescue dose",
            witness=witness,
        )
    return draw.pk, given.pk


@transaction.atomic
def give_drug(
    *,
    by: Actor,
    visit: InfusionVisit,
    drug: rules.RescueDrug | str,
    route: rules.DrugRoute | str,
    dose_mg: Decimal,
    side_effect: SideEffect | None = None,
    given_at: dt.datetime | None = None,
    override_reason: str = "",
    vial_id: int | None = None,
    witness: SignedWitness | None = None,
    authorised_by: SignedWitness | None = None,
) -> DrugGiven:
    """Record a rescue drug given during an open visit, checked against the protocol's usual doses and
    routes. A hard stop (dose above the usual maximum, a route the protocol does not list) is refused unless
    a clinician gives an override reason, stored on the row with the findings. A controlled drug (midazolam)
    is drawn from `vial_id` and recorded as given on the ledger in the same transaction, by a person allowed
    to draw (the nurse); both ledger entry ids are stored. From a single-dose vial the whole vial is drawn
    and the rest wasted with `witness` (who signed in). An override reason is stored only when something
    was overridden.

    A controlled dose past a hard stop needs two people: the nurse who draws it records it, and the
    clinician who authorises it co-signs on the same form (`authorised_by`, signed in with their own
    credentials); the row names the clinician as the one who overrode."""
    require(by, Perm.RUN_INFUSION)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    drug = _choice(rules.RescueDrug, drug, "drug", "a drug the protocol lists")
    route = _choice(rules.DrugRoute, route, "route", "a route")
    dose = _dose(dose_mg)
    if side_effect is not None and side_effect.visit_id != visit.pk:
        raise InfusionRuleError(
            InfusionErrorCode.WRONG_VISIT, "That side effect belongs to another visit.", field="side_effect"
        )
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    limits = protocol.rescue_limits(drug)
    findings = rules.check_rescue_dose(limits, dose_mg=dose, route=route)
    findings += rules.check_rescue_allergy(drug, allergies=_allergies_to(visit, drug))
    reason, overrider = _hard_stop_override(by, findings, override_reason, authorised_by)
    if limits.controlled and not can(by, Perm.DRAW_STOCK):
        raise PermissionDenied(CONTROLLED_DRAW_REFUSED)
    moment = moment_in_visit(visit, given_at, field="given_at")
    draw_id: int | None = None
    administration_id: int | None = None
    if limits.controlled:
        draw_id, administration_id = _draw_controlled_dose(
            by=by, visit=visit, drug=drug, vial_id=vial_id, dose=dose, witness=witness
        )
    given_row = DrugGiven.objects.create(
        visit=visit,
        side_effect=side_effect,
        drug=drug.value,
        route=route.value,
        dose_mg=dose,
        given_at=moment,
        findings=_stored_findings(findings, reason),
        override_reason=reason,
        overridden_by=overrider,
        ledger_draw_entry_id=draw_id,
        ledger_administration_entry_id=administration_id,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    summary = f"{rules.RESCUE_DRUG_NAMES[drug]} {dose} mg {route.value}"
    if overrider is not None:
        summary += f" (hard stop overridden by {overrider.get_username()})"
    audit(by, visit, Action.CREATE, ObjectType.INFUSION_DRUG_GIVEN, given_row.pk, summary)
    announce(visit.pk)
    return given_row
