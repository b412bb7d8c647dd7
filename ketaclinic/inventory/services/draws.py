"""Drawing a dose from a vial, recording what was given, wasting the rest with a witness, and reconciling
drawn = given + wasted per dose order."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.inventory import rules
from ketaclinic.inventory.errors import InventoryDomainError, InventoryError
from ketaclinic.inventory.models import (
    Discrepancy,
    DiscrepancySource,
    LedgerEntry,
    Vial,
    VialStatus,
    WasteMethod,
)
from ketaclinic.inventory.services import references
from ketaclinic.inventory.services.common import append, audit, check_witness, locked_head, require_clinic
from ketaclinic.inventory.services.witness import SignedWitness
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.selectors import protocol_int


def _positive(amount_mg: Decimal, field: str = "amount_mg") -> Decimal:
    amount = rules.quantity(amount_mg)
    if amount <= 0:
        raise InventoryDomainError(InventoryError.INVALID_AMOUNT, "Enter an amount above zero.", field=field)
    return amount


@transaction.atomic
def draw_from_vial(
    *,
    by: Actor,
    vial_id: int,
    amount_mg: Decimal,
    patient: Patient,
    dose_order_id: int | None = None,
    visit_id: int | None = None,
) -> LedgerEntry:
    """Draw `amount_mg` (and the matching mL) from a vial for a patient. The vial is locked first, so two
    draws on one vial run one after the other and never take it below zero. The first draw opens the vial;
    an opened multi-dose vial is refused after the protocol's discard-after-opening time, a single-dose vial
    after its first draw, any vial after its expiry date."""
    require(by, Perm.DRAW_STOCK)
    amount = _positive(amount_mg)
    vial = (
        Vial.objects.select_for_update(of=("self",))
        .select_related("product", "clinic")
        .filter(pk=vial_id)
        .first()
    )
    if vial is None:
        raise InventoryDomainError(InventoryError.VIAL_NOT_IN_STOCK, "No such vial.", field="vial")
    require_clinic(by, vial.clinic_id)
    if patient.clinic_id != vial.clinic_id:
        raise InventoryDomainError(
            InventoryError.CLINIC_NOT_YOURS, "The patient belongs to another clinic.", field="patient"
        )
    references.require_references(patient_id=patient.pk, dose_order_id=dose_order_id, visit_id=visit_id)
    if vial.status != VialStatus.IN_STOCK:
        raise InventoryDomainError(
            InventoryError.VIAL_NOT_IN_STOCK,
            f"{vial.label} is {vial.get_status_display().lower()}.",
            field="vial",
        )
    now = clock.now()
    state = rules.vial_state(
        now=now,
        today=clock.today_in(vial.clinic.time_zone),
        expires_on=vial.expires_on,
        opened_at=vial.opened_at,
        discard_after_opening_days=protocol_int("multi_dose_vial_discard_after_opening_days"),
    )
    if state is rules.VialState.EXPIRED:
        raise InventoryDomainError(
            InventoryError.VIAL_EXPIRED,
            f"{vial.label} expired on {vial.expires_on:%Y-%m-%d}: remove it with a witness.",
            field="vial",
        )
    if state is rules.VialState.PAST_DISCARD_DATE:
        raise InventoryDomainError(
            InventoryError.VIAL_PAST_DISCARD_DATE,
            f"{vial.label} was opened on {vial.opened_at:%Y-%m-%d} and is past the protocol's "
            "discard-after-opening time: remove it with a witness.",
            field="vial",
        )
    if not vial.product.multi_dose and vial.opened_at is not None:
        raise InventoryDomainError(
            InventoryError.SINGLE_DOSE_OPENED,
            f"{vial.label} is a single-dose vial that was already opened: remove the rest with a witness.",
            field="vial",
        )
    amount_ml = rules.ml_for_mg(amount, vial.product.concentration_mg_per_ml)
    try:
        after_mg = rules.balance_after(vial.balance_mg, -amount)
        after_ml = rules.balance_after(vial.balance_ml, -amount_ml)
    except rules.NegativeBalance:
        raise InventoryDomainError(
            InventoryError.INSUFFICIENT_BALANCE,
            f"{vial.label} holds {vial.balance_mg} mg ({vial.balance_ml} mL); {amount} mg cannot be drawn.",
            field="amount_mg",
        ) from None
    entry = append(
        locked_head(vial.product),
        LedgerEntry(
            clinic_id=vial.clinic_id,
            kind=rules.EntryKind.DRAWN,
            vial=vial,
            amount_mg=amount,
            amount_ml=amount_ml,
            balance_change_mg=-amount,
            balance_change_ml=-amount_ml,
            balance_after_mg=after_mg,
            balance_after_ml=after_ml,
            location_id=vial.location_id,
            patient=patient,
            dose_order_id=dose_order_id,
            visit_id=visit_id,
            performed_by=by,
            occurred_at=now,
        ),
    )
    vial.balance_mg, vial.balance_ml = after_mg, after_ml
    if vial.opened_at is None:
        vial.opened_at = now
    if after_mg == 0 or after_ml == 0:
        vial.status = VialStatus.EMPTY
    vial.save(update_fields=["balance_mg", "balance_ml", "opened_at", "status"])
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.CONTROLLED_DRUG_DRAW,
        object_id=entry.pk,
        clinic_id=vial.clinic_id,
        summary=f"drew {amount} mg ({amount_ml} mL) from {vial.label}"
        + (f" for dose order {dose_order_id}" if dose_order_id else ""),
        patient=patient,
    )
    return entry


def _locked_draw(draw_id: int) -> tuple[LedgerEntry, Decimal, Decimal]:
    """The draw (its vial locked, so follow-ups on one draw queue) and what was given and wasted of it."""
    draw = (
        LedgerEntry.objects.select_related("patient", "product", "vial")
        .filter(pk=draw_id, kind=rules.EntryKind.DRAWN)
        .first()
    )
    if draw is None:
        raise InventoryDomainError(InventoryError.NOT_A_DRAW, "No such draw.", field="draw")
    Vial.objects.select_for_update().filter(pk=draw.vial_id).first()
    totals = LedgerEntry.objects.filter(draw=draw).aggregate(
        given=Sum("amount_mg", filter=Q(kind=rules.EntryKind.ADMINISTERED)),
        wasted=Sum("amount_mg", filter=Q(kind=rules.EntryKind.WASTED)),
    )
    return draw, rules.quantity(totals["given"] or 0), rules.quantity(totals["wasted"] or 0)


def _follow_up(
    *,
    by: Actor,
    draw: LedgerEntry,
    kind: rules.EntryKind,
    amount: Decimal,
    witness: SignedWitness | None,
    method: str = "",
    reason: str = "",
    visit_id: int | None = None,
) -> LedgerEntry:
    vial = draw.vial
    return append(
        locked_head(draw.product),
        LedgerEntry(
            clinic_id=draw.clinic_id,
            kind=kind,
            vial=vial,
            amount_mg=amount,
            amount_ml=rules.ml_for_mg(amount, draw.product.concentration_mg_per_ml),
            balance_change_mg=rules.ZERO,
            balance_change_ml=rules.ZERO,
            balance_after_mg=vial.balance_mg,
            balance_after_ml=vial.balance_ml,
            location_id=draw.location_id,
            patient_id=draw.patient_id,
            dose_order_id=draw.dose_order_id,
            visit_id=visit_id if visit_id is not None else draw.visit_id,
            draw=draw,
            performed_by=by,
            witness=witness.user if witness else None,
            method=method,
            reason=reason,
            occurred_at=clock.now(),
        ),
    )


def _check_remaining(amount: Decimal, drawn: Decimal, given: Decimal, wasted: Decimal) -> None:
    remaining = rules.remaining_on_draw(drawn, given, wasted)
    if amount > remaining:
        raise InventoryDomainError(
            InventoryError.EXCEEDS_DRAWN,
            f"Only {remaining} mg of this draw ({drawn} mg) is not yet given or wasted.",
            field="amount_mg",
        )


@transaction.atomic
def record_administration(
    *, by: Actor, draw_id: int, amount_mg: Decimal, visit_id: int | None = None
) -> LedgerEntry:
    """Record that `amount_mg` of a draw was given to its patient (called by the infusion visit). The person
    recording needs DRAW_STOCK: the nurse who drew and gives the dose."""
    require(by, Perm.DRAW_STOCK)
    amount = _positive(amount_mg)
    draw, given, wasted = _locked_draw(draw_id)
    require_clinic(by, draw.clinic_id)
    if draw.patient_id is not None:
        references.require_references(patient_id=draw.patient_id, visit_id=visit_id)
    _check_remaining(amount, draw.amount_mg, given, wasted)
    entry = _follow_up(
        by=by, draw=draw, kind=rules.EntryKind.ADMINISTERED, amount=amount, witness=None, visit_id=visit_id
    )
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.CONTROLLED_DRUG_ADMINISTRATION,
        object_id=entry.pk,
        clinic_id=draw.clinic_id,
        summary=f"gave {amount} mg of draw {draw.pk}",
        patient=draw.patient,
    )
    return entry


@transaction.atomic
def record_waste(
    *,
    by: Actor,
    draw_id: int,
    amount_mg: Decimal,
    method: WasteMethod,
    reason: str,
    witness: SignedWitness,
    visit_id: int | None = None,
) -> LedgerEntry:
    """Waste what was drawn but not given, with a witness who signed in. Wastes come out of the draw, not the
    vial: the vial's balance already fell when the dose was drawn. `visit_id` names the visit the waste
    closes when the draw itself does not."""
    require(by, Perm.DRAW_STOCK)
    amount = _positive(amount_mg)
    draw, given, wasted = _locked_draw(draw_id)
    require_clinic(by, draw.clinic_id)
    check_witness(by, draw.vial.clinic, witness, required_key="cs_waste_witness_count")
    if method == WasteMethod.OTHER and not reason.strip():
        raise InventoryDomainError(
            InventoryError.REASON_REQUIRED, "Describe how it was wasted.", field="reason"
        )
    _check_remaining(amount, draw.amount_mg, given, wasted)
    entry = _follow_up(
        by=by,
        draw=draw,
        kind=rules.EntryKind.WASTED,
        amount=amount,
        witness=witness,
        method=method,
        reason=reason.strip(),
        visit_id=visit_id,
    )
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.CONTROLLED_DRUG_WASTE,
        object_id=entry.pk,
        clinic_id=draw.clinic_id,
        summary=f"wasted {amount} mg of draw {draw.pk}, witness {witness.user.username}",
        patient=draw.patient,
    )
    return entry


@dataclass(frozen=True)
class DrawTotals:
    """One draw with what was given and wasted of it so far."""

    draw: LedgerEntry
    given_mg: Decimal
    wasted_mg: Decimal

    @property
    def remaining_mg(self) -> Decimal:
        return rules.remaining_on_draw(self.draw.amount_mg, self.given_mg, self.wasted_mg)


def draws_for_visit(
    *, clinic_id: int, dose_order_id: int, visit_id: int, since: dt.datetime
) -> list[DrawTotals]:
    """The draws made for a visit's dose, oldest first: drawn for the visit itself, or for its dose order
    (without a visit) at or after `since` (the start of the visit's clinic day). A read without a
    permission check: the calling service checks. One query, however many draws."""
    return draws_for_visits([VisitDraws(clinic_id, dose_order_id, visit_id, since)])[visit_id]


@dataclass(frozen=True)
class VisitDraws:
    """Which draws belong to one visit (see `draws_for_visit`)."""

    clinic_id: int
    dose_order_id: int
    visit_id: int
    since: dt.datetime


def draws_for_visits(visits: list[VisitDraws]) -> dict[int, list[DrawTotals]]:
    """`draws_for_visit` for many visits in one query (a list page): by visit id, each oldest first."""
    result: dict[int, list[DrawTotals]] = {visit.visit_id: [] for visit in visits}
    if not visits:
        return result
    wanted = Q()
    for visit in visits:
        wanted |= Q(clinic_id=visit.clinic_id) & (
            Q(visit_id=visit.visit_id)
            | Q(visit_id__isnull=True, dose_order_id=visit.dose_order_id, occurred_at__gte=visit.since)
        )
    draws = (
        LedgerEntry.objects.filter(wanted, kind=rules.EntryKind.DRAWN)
        .annotate(
            given=Sum("follow_ups__amount_mg", filter=Q(follow_ups__kind=rules.EntryKind.ADMINISTERED)),
            wasted=Sum("follow_ups__amount_mg", filter=Q(follow_ups__kind=rules.EntryKind.WASTED)),
        )
        .select_related("product", "vial", "patient")
        .order_by("occurred_at", "pk")
    )
    for draw in draws:
        totals = DrawTotals(
            draw=draw,
            given_mg=rules.quantity(draw.given or 0),
            wasted_mg=rules.quantity(draw.wasted or 0),
        )
        for visit in visits:
            if draw.clinic_id != visit.clinic_id:
                continue
            if draw.visit_id == visit.visit_id or (
                draw.visit_id is None
                and draw.dose_order_id == visit.dose_order_id
                and draw.occurred_at >= visit.since
            ):
                result[visit.visit_id].append(totals)
    return result


@transaction.atomic
def settle_visit_draws(
    *,
    by: Actor,
    draws: list[DrawTotals],
    given_mg: Decimal,
    waste_mg: Decimal,
    method: WasteMethod,
    reason: str,
    witness: SignedWitness,
    visit_id: int,
) -> list[LedgerEntry]:
    """Close a visit's draws: record as given whatever of `given_mg` the ledger does not show as given yet,
    then waste `waste_mg` with the witness, each taken from the draws oldest first. Returns the new
    entries. Refused (nothing written) when the draws do not hold that much."""
    require(by, Perm.DRAW_STOCK)
    entries: list[LedgerEntry] = []
    to_give = rules.quantity(given_mg - sum((item.given_mg for item in draws), rules.ZERO))
    to_waste = rules.quantity(waste_mg)
    for item in draws:
        room = item.remaining_mg
        give_here = min(max(to_give, rules.ZERO), room)
        if give_here > 0:
            entries.append(
                record_administration(by=by, draw_id=item.draw.pk, amount_mg=give_here, visit_id=visit_id)
            )
            to_give -= give_here
            room -= give_here
        waste_here = min(to_waste, room)
        if waste_here > 0:
            entries.append(
                record_waste(
                    by=by,
                    draw_id=item.draw.pk,
                    amount_mg=waste_here,
                    method=method,
                    reason=reason,
                    witness=witness,
                    visit_id=visit_id,
                )
            )
            to_waste -= waste_here
    if to_give > 0 or to_waste > 0:
        raise InventoryDomainError(
            InventoryError.EXCEEDS_DRAWN,
            f"The ledger's draws for this visit do not hold {rules.quantity(given_mg + waste_mg)} mg.",
            field="amount_mg",
        )
    return entries


def reconciliation_of(*, clinic_id: int, dose_order_id: int) -> rules.Reconciliation:
    """Drawn, given and wasted for one dose order (a read; no permission check: callers check)."""
    totals = LedgerEntry.objects.filter(clinic_id=clinic_id, dose_order_id=dose_order_id).aggregate(
        drawn=Sum("amount_mg", filter=Q(kind=rules.EntryKind.DRAWN)),
        given=Sum("amount_mg", filter=Q(kind=rules.EntryKind.ADMINISTERED)),
        wasted=Sum("amount_mg", filter=Q(kind=rules.EntryKind.WASTED)),
    )
    return rules.Reconciliation(
        drawn_mg=rules.quantity(totals["drawn"] or 0),
        given_mg=rules.quantity(totals["given"] or 0),
        wasted_mg=rules.quantity(totals["wasted"] or 0),
    )


@transaction.atomic
def reconcile_dose_order(
    *, by: Actor, clinic: Clinic, dose_order_id: int
) -> tuple[rules.Reconciliation, Discrepancy | None]:
    """Close the books on a dose order (at discharge): drawn must equal given + wasted. A gap opens a
    discrepancy for the custodian (once per order); returns the reconciliation and that discrepancy."""
    require(by, Perm.DRAW_STOCK)
    require_clinic(by, clinic.pk)
    reconciliation = reconciliation_of(clinic_id=clinic.pk, dose_order_id=dose_order_id)
    if reconciliation.balanced:
        return reconciliation, None
    existing = Discrepancy.objects.filter(
        clinic=clinic, dose_order_id=dose_order_id, source=DiscrepancySource.RECONCILIATION
    ).first()
    if existing is not None:
        return reconciliation, existing
    first_draw = (
        LedgerEntry.objects.filter(clinic=clinic, dose_order_id=dose_order_id, kind=rules.EntryKind.DRAWN)
        .select_related("product", "patient")
        .order_by("pk")
        .first()
    )
    if first_draw is None:
        raise InventoryDomainError(InventoryError.NOT_A_DRAW, "Nothing was drawn for this dose order.")
    accounted = rules.quantity(reconciliation.given_mg + reconciliation.wasted_mg)
    concentration = first_draw.product.concentration_mg_per_ml
    discrepancy = Discrepancy.objects.create(
        clinic=clinic,
        product=first_draw.product,
        vial_id=first_draw.vial_id,
        source=DiscrepancySource.RECONCILIATION,
        dose_order_id=dose_order_id,
        expected_mg=reconciliation.drawn_mg,
        found_mg=accounted,
        expected_ml=rules.ml_for_mg(reconciliation.drawn_mg, concentration),
        found_ml=rules.ml_for_mg(accounted, concentration),
        opened_by=by,
        opened_at=clock.now(),
    )
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.DISCREPANCY,
        object_id=discrepancy.pk,
        clinic_id=clinic.pk,
        summary=f"dose order {dose_order_id}: drew {reconciliation.drawn_mg} mg, "
        f"gave {reconciliation.given_mg} mg, wasted {reconciliation.wasted_mg} mg",
        patient=first_draw.patient,
    )
    return reconciliation, discrepancy
