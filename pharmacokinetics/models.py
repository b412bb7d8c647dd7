"""Published compartment models for IV racemic ketamine, as PROTOCOL.md §6 lists them.

Parameter values are those PROTOCOL.md §6 gives (opentiva's encoding, github.com/opentiva/opentiva,
opentiva/ketamine.py), each model with its source. Two kinds of parameterisation occur:

* rate-constant models (Domino, Clements, Hijazi): V1 in L/kg and micro rate constants per minute that do
  not depend on weight;
* allometric clearance models for children (Herd, Hornik): volumes in L at 70 kg scaled linearly with
  weight, clearances in L/h at 70 kg scaled with (weight/70)^0.75, turned into rate constants per minute
  for one patient (k10 = CL/V1, k12 = Q/V1, k21 = Q/V2).

Only Domino has an effect-site rate constant (ke0) in PROTOCOL.md. opentiva also carries ke0 values for the
other four models, derived from an assumed time to peak effect of 1 minute; they are not published
parameters, PROTOCOL.md does not list them, and they are not used here.

Sampling site (arterial or venous) changes measured ketamine concentrations (Kamp et al. 2020, PROTOCOL.md
§6), but PROTOCOL.md does not state it for any of these models, so every model says "unspecified".

Norketamine is not modelled: PROTOCOL.md names a three-compartment S-ketamine/norketamine model (Fanta 2015,
PMID 25724645) but gives only its clearance (95 L/h/70 kg) and oral bioavailability, not a full parameter set.
"""

import math
from dataclasses import dataclass
from typing import Literal

SamplingSite = Literal["arterial", "venous", "unspecified"]

OPENTIVA = "parameters as encoded in opentiva (github.com/opentiva/opentiva, opentiva/ketamine.py)"
REFERENCE_WEIGHT_KG = 70.0
ALLOMETRIC_EXPONENT = 0.75
MINUTES_PER_HOUR = 60.0


def _require_positive_finite(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a positive finite number, not {value!r}.")


@dataclass(frozen=True, slots=True)
class ScaledModel:
    """One patient's model: central volume and micro rate constants (per minute) at that patient's weight.

    A two-compartment model has k13_per_min = k31_per_min = 0. ke0_per_min is None when the model has no
    effect site.
    """

    model: "CompartmentModel"
    weight_kg: float
    v1_l: float
    k10_per_min: float
    k12_per_min: float
    k21_per_min: float
    k13_per_min: float = 0.0
    k31_per_min: float = 0.0
    ke0_per_min: float | None = None

    def __post_init__(self) -> None:
        _require_positive_finite("weight_kg", self.weight_kg)
        _require_positive_finite("v1_l", self.v1_l)
        _require_positive_finite("k10_per_min", self.k10_per_min)
        _require_positive_finite("k12_per_min", self.k12_per_min)
        _require_positive_finite("k21_per_min", self.k21_per_min)
        third = (self.k13_per_min, self.k31_per_min)
        if third != (0.0, 0.0):
            _require_positive_finite("k13_per_min", self.k13_per_min)
            _require_positive_finite("k31_per_min", self.k31_per_min)
        if self.ke0_per_min is not None:
            _require_positive_finite("ke0_per_min", self.ke0_per_min)

    @property
    def compartments(self) -> int:
        """2 or 3 (the effect site, when present, is not counted: it holds no drug)."""
        return 3 if self.k13_per_min > 0.0 else 2

    @property
    def has_effect_site(self) -> bool:
        return self.ke0_per_min is not None


@dataclass(frozen=True, slots=True)
class RateConstantParameters:
    """V1 proportional to weight; micro rate constants independent of weight."""

    v1_l_per_kg: float
    k10_per_min: float
    k12_per_min: float
    k21_per_min: float
    k13_per_min: float = 0.0
    k31_per_min: float = 0.0
    ke0_per_min: float | None = None


@dataclass(frozen=True, slots=True)
class AllometricParameters:
    """Two-compartment model given as volumes (L) and clearances (L/h) for a 70 kg patient.

    Volumes scale with weight/70, clearances with (weight/70)^0.75 (the allometric exponent the papers use).
    """

    v1_l_at_70_kg: float
    v2_l_at_70_kg: float
    cl_l_per_h_at_70_kg: float
    q_l_per_h_at_70_kg: float


@dataclass(frozen=True, slots=True)
class CompartmentModel:
    """A published ketamine model: what it is, whom it was fitted on, where its parameters come from."""

    key: str
    name: str
    population: str
    source: str
    sampling_site: SamplingSite
    min_age_years: float | None
    max_age_years: float | None
    min_weight_kg: float | None
    max_weight_kg: float | None
    parameters: RateConstantParameters | AllometricParameters

    @property
    def has_effect_site(self) -> bool:
        p = self.parameters
        return isinstance(p, RateConstantParameters) and p.ke0_per_min is not None

    def scaled(self, weight_kg: float) -> ScaledModel:
        """The model's volumes and rate constants for a patient of this weight (kg)."""
        _require_positive_finite("weight_kg", weight_kg)
        p = self.parameters
        if isinstance(p, RateConstantParameters):
            return ScaledModel(
                model=self,
                weight_kg=weight_kg,
                v1_l=p.v1_l_per_kg * weight_kg,
                k10_per_min=p.k10_per_min,
                k12_per_min=p.k12_per_min,
                k21_per_min=p.k21_per_min,
                k13_per_min=p.k13_per_min,
                k31_per_min=p.k31_per_min,
                ke0_per_min=p.ke0_per_min,
            )
        size = weight_kg / REFERENCE_WEIGHT_KG
        v1_l = p.v1_l_at_70_kg * size
        v2_l = p.v2_l_at_70_kg * size
        clearance_scale = size**ALLOMETRIC_EXPONENT / MINUTES_PER_HOUR
        cl_l_per_min = p.cl_l_per_h_at_70_kg * clearance_scale
        q_l_per_min = p.q_l_per_h_at_70_kg * clearance_scale
        return ScaledModel(
            model=self,
            weight_kg=weight_kg,
            v1_l=v1_l,
            k10_per_min=cl_l_per_min / v1_l,
            k12_per_min=q_l_per_min / v1_l,
            k21_per_min=q_l_per_min / v2_l,
        )

    def outside_fitted_range(self, *, weight_kg: float, age_years: float | None = None) -> list[str]:
        """Plain sentences saying how a patient lies outside the ages and weights the model was fitted on."""
        notes: list[str] = []
        if _outside(weight_kg, self.min_weight_kg, self.max_weight_kg):
            span = _span(self.min_weight_kg, self.max_weight_kg)
            notes.append(
                f"{self.name} was fitted on patients of {span} kg; this patient weighs {weight_kg:g} kg."
            )
        if age_years is not None and _outside(age_years, self.min_age_years, self.max_age_years):
            span = _span(self.min_age_years, self.max_age_years)
            notes.append(
                f"{self.name} was fitted on patients aged {span} years; this patient is {age_years:g}."
            )
        return notes


def _outside(value: float, low: float | None, high: float | None) -> bool:
    return (low is not None and value < low) or (high is not None and value > high)


def _span(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    if low is not None:
        return f"at least {low:g}"
    return f"at most {high:g}"


DOMINO = CompartmentModel(
    key="domino",
    name="Domino (3-compartment, with effect site)",
    population="Adults (surgical)",
    source=f"Domino et al., Anesth Analg 1982, PMID 7198883; {OPENTIVA}",
    sampling_site="unspecified",
    min_age_years=None,
    max_age_years=None,
    min_weight_kg=None,
    max_weight_kg=None,
    parameters=RateConstantParameters(
        v1_l_per_kg=0.063,
        k10_per_min=0.4381,
        k12_per_min=0.5921,
        k21_per_min=0.2470,
        k13_per_min=0.5900,
        k31_per_min=0.0146,
        ke0_per_min=0.652,
    ),
)

CLEMENTS = CompartmentModel(
    key="clements",
    name="Clements (2-compartment, 250 µg/kg bolus data)",
    population="Adults (250 µg/kg IV bolus)",
    source=f"Clements & Nimmo, Br J Anaesth 1981;53:27, PMID 7459184, doi:10.1093/bja/53.1.27; {OPENTIVA}",
    sampling_site="unspecified",
    min_age_years=None,
    max_age_years=None,
    min_weight_kg=None,
    max_weight_kg=None,
    parameters=RateConstantParameters(
        v1_l_per_kg=1.7522,
        k10_per_min=0.0109,
        k12_per_min=0.0186,
        k21_per_min=0.0137,
    ),
)

HIJAZI = CompartmentModel(
    key="hijazi",
    name="Hijazi (2-compartment)",
    population=(
        "ICU adults with brain or spinal injury (population unverified; opentiva caps its use at age 18, "
        "which contradicts an adult population, so no age range is set here)"
    ),
    source=f"Hijazi, Br J Anaesth 2003, PMID 12538370, doi:10.1093/bja/aeg028; {OPENTIVA}",
    sampling_site="unspecified",
    min_age_years=None,
    max_age_years=None,
    min_weight_kg=None,
    max_weight_kg=None,
    parameters=RateConstantParameters(
        v1_l_per_kg=1.08,
        k10_per_min=0.0333,
        k12_per_min=0.0088,
        k21_per_min=0.0030,
    ),
)

HERD = CompartmentModel(
    key="herd",
    name="Herd (2-compartment, paediatric, allometric)",
    population="Children 1 to 14 years, 10.8 to 74.8 kg",
    source=("Herd, Paediatr Anaesth 2007, PMID 17564643, doi:10.1111/j.1460-9592.2006.02145.x; " + OPENTIVA),
    sampling_site="unspecified",
    min_age_years=1.0,
    max_age_years=14.0,
    min_weight_kg=10.8,
    max_weight_kg=74.8,
    parameters=AllometricParameters(
        v1_l_at_70_kg=38.7,
        v2_l_at_70_kg=102.0,
        cl_l_per_h_at_70_kg=90.0,
        q_l_per_h_at_70_kg=215.0,
    ),
)

HORNIK = CompartmentModel(
    key="hornik",
    name="Hornik (2-compartment, paediatric, allometric)",
    population="Children 1 to 18 years, 2 to 176 kg",
    source=(
        "Hornik, J Clin Pharmacol 2018, PMID 29677389, doi:10.1002/jcph.1116; "
        f"{OPENTIVA} (V2 152 L at 70 kg, scaled with weight/70 as V1 is)"
    ),
    sampling_site="unspecified",
    min_age_years=1.0,
    max_age_years=18.0,
    min_weight_kg=2.0,
    max_weight_kg=176.0,
    parameters=AllometricParameters(
        v1_l_at_70_kg=32.8,
        v2_l_at_70_kg=152.0,
        cl_l_per_h_at_70_kg=38.9,
        q_l_per_h_at_70_kg=54.9,
    ),
)

MODELS: dict[str, CompartmentModel] = {m.key: m for m in (DOMINO, CLEMENTS, HIJAZI, HERD, HORNIK)}
