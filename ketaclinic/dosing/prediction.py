"""The predicted plasma concentration of a planned infusion, from the pure `pharmacokinetics` package.

Pure (numpy through `pharmacokinetics`, no Django): the services call it for the order's stored peak and the
"predicted peak above ceiling" warning, the order page for its curve.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from ketaclinic.dosing.errors import DosingError, DosingErrorCode
from pharmacokinetics import MODELS, constant_infusion, plasma_concentration_ng_per_ml, summarise

# The curve covers four hours from the start, at one point a minute (the order page's horizon, not a limit).
HORIZON_MIN = 240
STEP_MIN = 1
# Predictions are shown to 0.1 ng/mL and 0.1 min: finer would claim a precision the models do not have.
PEAK_PLACES = Decimal("0.1")


@dataclass(frozen=True)
class Prediction:
    model_key: str
    model_name: str
    model_population: str
    model_source: str
    sampling_site: str
    peak_ng_per_ml: Decimal
    peak_at_min: Decimal
    end_of_infusion_ng_per_ml: Decimal
    end_of_infusion_at_min: Decimal
    times_min: tuple[float, ...]
    concentrations_ng_per_ml: tuple[float, ...]
    fitted_range_notes: tuple[str, ...]


def readable_model_name(model_key: str) -> str:
    """The model's readable name, or the key itself for a model the package no longer has."""
    model = MODELS.get(model_key)
    return model.name if model is not None else model_key


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(PEAK_PLACES, rounding=ROUND_HALF_UP)


def _range_notes(model_key: str, weight_kg: float, age_years: int) -> tuple[str, ...]:
    model = MODELS[model_key]
    notes: list[str] = []
    if model.min_age_years is not None and age_years < model.min_age_years:
        notes.append(f"age {age_years} is below {model.min_age_years:g} years")
    if model.max_age_years is not None and age_years > model.max_age_years:
        notes.append(f"age {age_years} is above {model.max_age_years:g} years")
    if model.min_weight_kg is not None and weight_kg < model.min_weight_kg:
        notes.append(f"{weight_kg:g} kg is below {model.min_weight_kg:g} kg")
    if model.max_weight_kg is not None and weight_kg > model.max_weight_kg:
        notes.append(f"{weight_kg:g} kg is above {model.max_weight_kg:g} kg")
    return tuple(notes)


def predict(
    *, model_key: str, weight_kg: Decimal, age_years: int, dose_mg: Decimal, duration_min: int
) -> Prediction:
    """The plasma curve of `dose_mg` given at a constant rate over `duration_min`, for this patient.

    The model is scaled to the actual weight (what the models were fitted on). Raises DosingError
    (`unknown_pk_model`) when the protocol names a model the package does not have.
    """
    if model_key not in MODELS:
        raise DosingError(
            DosingErrorCode.UNKNOWN_PK_MODEL,
            f"The protocol's pk_model '{model_key}' is not one of {', '.join(MODELS)}: ask a clinician to "
            "correct it on the protocol page.",
        )
    model = MODELS[model_key]
    scaled = model.scaled(weight_kg=float(weight_kg))
    events = constant_infusion(dose_mg=float(dose_mg), duration_min=float(duration_min))
    summary = summarise(scaled, events, horizon_min=float(HORIZON_MIN))
    times = np.arange(0, HORIZON_MIN + STEP_MIN, STEP_MIN, dtype=float)
    curve = plasma_concentration_ng_per_ml(scaled, events, times)
    return Prediction(
        model_key=model.key,
        model_name=model.name,
        model_population=model.population,
        model_source=model.source,
        sampling_site=model.sampling_site,
        peak_ng_per_ml=_decimal(summary.peak_ng_per_ml),
        peak_at_min=_decimal(summary.peak_at_min),
        end_of_infusion_ng_per_ml=_decimal(summary.end_of_infusion_ng_per_ml),
        end_of_infusion_at_min=_decimal(summary.end_of_infusion_at_min),
        times_min=tuple(float(t) for t in times),
        concentrations_ng_per_ml=tuple(float(c) for c in curve),
        fitted_range_notes=_range_notes(model_key, float(weight_kg), age_years),
    )
