"""Titration between infusions: the next dose per kg proposed from response and tolerability."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ketaclinic.dosing.rules.terms import show


class TitrationStep(StrEnum):
    INCREASE = "increase"
    KEEP = "keep"
    DECREASE = "decrease"


@dataclass(frozen=True)
class TitrationProposal:
    step: TitrationStep
    dose_mg_per_kg: Decimal
    reason: str


def propose_titration(
    *,
    previous_dose_mg_per_kg: Decimal,
    response_reduction_percent: Decimal | None,
    tolerated: bool,
    step_mg_per_kg: Decimal,
    ceiling_mg_per_kg: Decimal,
    floor_mg_per_kg: Decimal,
    response_threshold_percent: Decimal,
) -> TitrationProposal:
    """The next dose per kg: step down if not tolerated, keep if responding, step up (to the ceiling) if not.

    A proposal for the clinician, never an order. A previous dose above the ceiling is brought down to it.
    """
    previous = previous_dose_mg_per_kg
    if previous > ceiling_mg_per_kg:
        return TitrationProposal(
            TitrationStep.DECREASE,
            ceiling_mg_per_kg,
            f"The last dose ({show(previous)} mg/kg) was above the titration ceiling of "
            f"{show(ceiling_mg_per_kg)} mg/kg.",
        )
    if not tolerated:
        lowered = max(previous - step_mg_per_kg, floor_mg_per_kg)
        if lowered >= previous:
            return TitrationProposal(
                TitrationStep.KEEP,
                previous,
                f"Not well tolerated at the lowest usual dose ({show(floor_mg_per_kg)} mg/kg): review "
                "whether to continue.",
            )
        return TitrationProposal(
            TitrationStep.DECREASE, lowered, f"Not well tolerated: one step ({show(step_mg_per_kg)}) down."
        )
    if response_reduction_percent is None:
        return TitrationProposal(
            TitrationStep.KEEP, previous, "No response measure entered: keep the dose until one is."
        )
    if response_reduction_percent >= response_threshold_percent:
        return TitrationProposal(
            TitrationStep.KEEP,
            previous,
            f"Responding ({show(response_reduction_percent)} % reduction, response from "
            f"{show(response_threshold_percent)} %): keep the dose.",
        )
    raised = min(previous + step_mg_per_kg, ceiling_mg_per_kg)
    if raised <= previous:
        return TitrationProposal(
            TitrationStep.KEEP,
            previous,
            f"Not yet responding, but already at the titration ceiling ({show(ceiling_mg_per_kg)} mg/kg): "
            "review the plan.",
        )
    return TitrationProposal(
        TitrationStep.INCREASE,
        raised,
        f"Well tolerated and not yet responding ({show(response_reduction_percent)} % reduction, response "
        f"from {show(response_threshold_percent)} %): one step ({show(step_mg_per_kg)}) up.",
    )
