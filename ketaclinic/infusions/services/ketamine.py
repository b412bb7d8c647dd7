"""The visit's ketamine, accounted for: drawn = given + wasted.

What was drawn comes from the ledger (the draws for the visit, or for its dose order on the visit's day);
what was given from the pump events (`rules.pump.progress`, the one place that works out mg given); what
was wasted from the ledger. The rest, drawn but neither given nor wasted, is wasted before a witness here,
and the visit cannot be signed off until it is.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.infusions import rules
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import CorrectableRow, EnteredInError, InfusionVisit, PumpEvent
from ketaclinic.infusions.rules import pump as pump_rules
from ketaclinic.infusions.services.common import announce, audit, lock_visit, require_clinic
from ketaclinic.infusions.services.visit import as_rule_events, live_pump_events
from ketaclinic.inventory import rules as ledger_rules
from ketaclinic.inventory.models import LedgerEntry, WasteMethod
from ketaclinic.inventory.services import draws as ledger
from ketaclinic.inventory.services.witness import SignedWitness

WASTE_NOTE_MAX_LENGTH = 200


@dataclass(frozen=True)
class VisitKetamine:
    """The visit's ketamine account and where it stands.

    `in_ledger` is False when no draw for the visit is in the ledger (then `drawn_mg` is the order's dose
    once the infusion has started, else 0). `settled_moment` is True once the pump was stopped or the
    patient discharged: from then on whatever is undelivered must be wasted.
    """

    account: pump_rules.KetamineAccount
    draws: list[ledger.DrawTotals]
    in_ledger: bool
    started: bool
    stopped: bool
    discharged: bool
    stop_reason: str

    @property
    def settled_moment(self) -> bool:
        return self.stopped or self.discharged

    @property
    def needs_waste(self) -> bool:
        """True when ketamine drawn for the visit is neither given nor wasted and nothing more will go in."""
        return self.settled_moment and self.account.undelivered_mg > 0

    @property
    def concentration_mg_per_ml(self) -> Decimal | None:
        return self.draws[0].draw.product.concentration_mg_per_ml if self.draws else None

    def ml(self, amount_mg: Decimal) -> Decimal | None:
        """`amount_mg` as mL of the drawn product (None without a draw in the ledger)."""
        concentration = self.concentration_mg_per_ml
        return None if concentration is None else ledger_rules.ml_for_mg(amount_mg, concentration)

    @property
    def drawn_ml(self) -> Decimal | None:
        return self.ml(self.account.drawn_mg)

    @property
    def given_ml(self) -> Decimal | None:
        return self.ml(self.account.given_mg)

    @property
    def wasted_ml(self) -> Decimal | None:
        return self.ml(self.account.wasted_mg)

    @property
    def undelivered_ml(self) -> Decimal | None:
        return self.ml(self.account.undelivered_mg)

    @property
    def waste_entries(self) -> list[LedgerEntry]:
        return [
            entry
            for item in self.draws
            for entry in item.draw.follow_ups.all()
            if entry.kind == ledger_rules.EntryKind.WASTED
        ]


def _day_start(visit: InfusionVisit) -> dt.datetime:
    """Midnight of the clinic's day on which the visit opened: a dose is drawn on the day it is given."""
    local = visit.opened_at.astimezone(ZoneInfo(visit.clinic.time_zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def ketamine_for(visit: InfusionVisit) -> VisitKetamine:
    """The visit's ketamine account as it stands now (a read; no permission check: callers check)."""
    draws = ledger.draws_for_visit(
        clinic_id=visit.clinic_id,
        dose_order_id=visit.dose_order_id,
        visit_id=visit.pk,
        since=_day_start(visit),
    )
    return _account(visit, live_pump_events(visit), draws)


def ketamine_for_visits(visits: Sequence[InfusionVisit]) -> dict[int, VisitKetamine]:
    """`ketamine_for` of many visits in a fixed number of queries (a list page), by visit id. The visits
    come with their clinic and discharge (select_related)."""
    ids = [visit.pk for visit in visits]
    withdrawn = EnteredInError.objects.filter(visit_id__in=ids, row_type=CorrectableRow.PUMP_EVENT).values(
        "row_id"
    )
    events: dict[int, list[PumpEvent]] = {visit_id: [] for visit_id in ids}
    for event in (
        PumpEvent.objects.filter(visit_id__in=ids).exclude(pk__in=withdrawn).order_by("occurred_at", "pk")
    ):
        events[event.visit_id].append(event)
    draws = ledger.draws_for_visits(
        [
            ledger.VisitDraws(visit.clinic_id, visit.dose_order_id, visit.pk, _day_start(visit))
            for visit in visits
        ]
    )
    return {visit.pk: _account(visit, events[visit.pk], draws[visit.pk]) for visit in visits}


def _account(visit: InfusionVisit, events: list[PumpEvent], draws: list[ledger.DrawTotals]) -> VisitKetamine:
    rule_events = as_rule_events(events)
    started = any(event.kind == pump_rules.PumpEventKind.START for event in rule_events)
    stop = next((event for event in reversed(events) if event.kind == pump_rules.PumpEventKind.STOP), None)
    if draws:
        drawn = ledger_rules.quantity(sum((item.draw.amount_mg for item in draws), Decimal(0)))
    else:
        drawn = visit.planned_dose_mg if started else Decimal(0)
    given = Decimal(0)
    if rule_events:
        given = pump_rules.progress(rule_events, now=clock.now(), planned_dose_mg=drawn).given_mg
    wasted = sum((item.wasted_mg for item in draws), Decimal(0))
    return VisitKetamine(
        account=pump_rules.ketamine_account(drawn_mg=drawn, given_by_pump_mg=given, wasted_mg=wasted),
        draws=draws,
        in_ledger=bool(draws),
        started=started,
        stopped=stop is not None,
        discharged=hasattr(visit, "discharge"),
        stop_reason=stop.reason if stop is not None else "",
    )


def refuse_if_unaccounted(visit: InfusionVisit) -> None:
    """Raise InfusionConflict (`ketamine_unaccounted`) while ketamine drawn for the visit is neither given
    nor wasted: the visit is signed off only once drawn = given + wasted."""
    state = ketamine_for(visit)
    if state.needs_waste:
        raise InfusionConflict(
            InfusionErrorCode.KETAMINE_UNACCOUNTED,
            f"{rules.show_number(state.account.undelivered_mg)} mg of ketamine was drawn but not given: "
            "waste it before a witness before the visit is signed off.",
        )


@transaction.atomic
def waste_undelivered(
    *, by: Actor, visit: InfusionVisit, method: WasteMethod | str, note: str, witness: SignedWitness
) -> list[LedgerEntry]:
    """Waste the ketamine drawn for the visit but not given, before a witness who signed in: the ledger
    records what the pump gave (where it does not show it yet) and wastes the rest, against the visit's
    draws. Refused (nothing written) before the pump is stopped, when nothing is left, or when the draw is
    not in the ledger. Returns the new ledger entries."""
    require(by, Perm.RUN_INFUSION)
    require(by, Perm.DRAW_STOCK)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    try:
        waste_method = WasteMethod(method)
    except ValueError:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "Choose how it was wasted.", field="method"
        ) from None
    text = " ".join(note.split())
    if len(text) > WASTE_NOTE_MAX_LENGTH:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, f"At most {WASTE_NOTE_MAX_LENGTH} characters.", field="reason"
        )
    if waste_method == WasteMethod.OTHER and not text:
        raise InfusionRuleError(
            InfusionErrorCode.REASON_REQUIRED, "Describe how it was wasted.", field="reason"
        )
    state = ketamine_for(visit)
    if not state.settled_moment:
        raise InfusionConflict(
            InfusionErrorCode.NOT_STOPPED, "The infusion is still running: stop it before wasting the rest."
        )
    account = state.account
    if account.undelivered_mg <= 0:
        raise InfusionConflict(
            InfusionErrorCode.NOTHING_TO_WASTE, "All the ketamine drawn for this visit is accounted for."
        )
    if not state.in_ledger:
        raise InfusionRuleError(
            InfusionErrorCode.DRAW_NOT_IN_LEDGER,
            f"No draw for dose order {visit.dose_order_id} is in the controlled-substance ledger: record the "
            "draw (Inventory, Draw, with the dose order number) first, then waste the rest here.",
        )
    given_text = rules.show_number(account.given_mg)
    drawn_text = rules.show_number(account.drawn_mg)
    reason = f"Not given at visit {visit.pk}: {given_text} of {drawn_text} mg given"
    if state.stop_reason:
        reason += f"; stopped: {state.stop_reason}"
    if text:
        reason += f". {text}"
    entries = ledger.settle_visit_draws(
        by=by,
        draws=state.draws,
        given_mg=account.given_mg,
        waste_mg=account.undelivered_mg,
        method=waste_method,
        reason=reason[:300],
        witness=witness,
        visit_id=visit.pk,
    )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_KETAMINE_WASTE,
        visit.pk,
        f"Wasted {account.undelivered_mg} mg of ketamine not given, witness {witness.user.get_username()}",
    )
    announce(visit.pk)
    return entries
