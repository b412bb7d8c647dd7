"""Pure pharmacokinetics for IV ketamine: compartment models and infusion histories -> concentrations.

Imports numpy and scipy only; never Django or application code (an import-linter contract checks this).
Units: times in minutes, rates in mg/min, amounts in mg, weights in kg, concentrations in ng/mL.

Norketamine is not modelled: PROTOCOL.md §6 gives no full parameter set for it (see models.py).
"""

from pharmacokinetics.closed_form import (
    compartment_amounts_mg,
    effect_site_concentration_ng_per_ml,
    effect_site_concentration_ng_per_ml_many,
    plasma_concentration_ng_per_ml,
    plasma_concentration_ng_per_ml_many,
)
from pharmacokinetics.models import (
    MODELS,
    AllometricParameters,
    CompartmentModel,
    RateConstantParameters,
    ScaledModel,
)
from pharmacokinetics.regimen import (
    EventKind,
    InfusionEvent,
    InvalidRegimen,
    amount_given_mg,
    constant_infusion,
)
from pharmacokinetics.summary import CurveSummary, summarise

__all__ = [
    "MODELS",
    "AllometricParameters",
    "CompartmentModel",
    "CurveSummary",
    "EventKind",
    "InfusionEvent",
    "InvalidRegimen",
    "RateConstantParameters",
    "ScaledModel",
    "amount_given_mg",
    "compartment_amounts_mg",
    "constant_infusion",
    "effect_site_concentration_ng_per_ml",
    "effect_site_concentration_ng_per_ml_many",
    "plasma_concentration_ng_per_ml",
    "plasma_concentration_ng_per_ml_many",
    "summarise",
]
