"""The dosing protocol for one population, read from the clinic's protocol values, with what it cites.

Every value is read through `ketaclinic.protocols.selectors.protocol_value` (the population's own entry, else
the 'all' entry), and each reading is kept so an order stores the protocol versions it was computed under.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ketaclinic.dosing import rules
from ketaclinic.dosing.errors import InvalidDoseInput
from ketaclinic.protocols.rules import Population, as_decimal
from ketaclinic.protocols.selectors import ProtocolReading, population_of_age, protocol_value


@dataclass
class _Reader:
    population: str
    readings: list[ProtocolReading] = field(default_factory=list)

    def read(self, key: str) -> ProtocolReading:
        reading = protocol_value(key, population=self.population)
        self.readings.append(reading)
        return reading

    def decimal(self, key: str) -> Decimal:
        return as_decimal(self.read(key).value)

    def integer(self, key: str) -> int:
        value = self.read(key).value
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"protocol value {key} is not a whole number: {value!r}")
        return value

    def text(self, key: str) -> str:
        return str(self.read(key).value)

    def decimals(self, key: str) -> tuple[Decimal, ...]:
        value = self.read(key).value
        if not isinstance(value, tuple):
            raise TypeError(f"protocol value {key} is not a list of numbers: {value!r}")
        return value


@dataclass(frozen=True)
class DosingProtocol:
    population: Population
    limits: rules.DosingLimits
    pk_model_key: str
    titration_step_mg_per_kg: Decimal
    titration_ceiling_mg_per_kg: Decimal
    response_threshold_percent: Decimal
    standard_dose_mg_per_kg: Decimal
    standard_duration_min: int
    default_vial_strength_mg_per_ml: Decimal
    default_diluent_volume_ml: Decimal
    readings: tuple[ProtocolReading, ...]

    def snapshot(self) -> list[dict[str, Any]]:
        """What an order stores: each value read, with the version and row it came from."""
        return [
            {
                "key": reading.key,
                "population": reading.population,
                "version": reading.version,
                "value_id": reading.value_id,
                "value": reading.text,
                "verified": reading.verified,
            }
            for reading in self.readings
        ]


def population_of(age_years: int) -> Population:
    """The protocol population for a patient of this age."""
    return population_of_age(age_years)


def _weight_basis(text: str) -> rules.WeightBasis:
    try:
        return rules.WeightBasis(text.strip().lower())
    except ValueError:
        # A mistyped protocol value must not silently dose on the actual weight of an obese patient.
        raise InvalidDoseInput(
            f"The protocol's dosing_weight_basis_obese '{text}' is not actual, ideal or adjusted: ask a "
            "clinician to correct it on the protocol page.",
            field="weight_kg",
        ) from None


def dosing_protocol(population: Population) -> DosingProtocol:
    """Every dosing value for `population`; one query per value."""
    reader = _Reader(population.value)
    rounding = rules.RoundingSteps(
        dose_mg=reader.decimal("dose_mg_round_step_mg"),
        volume_ml=reader.decimal("volume_round_step_ml"),
        rate_ml_per_h=reader.decimal("rate_round_step_ml_per_h"),
        concentration_mg_per_ml=reader.decimal("concentration_round_step_mg_per_ml"),
        dose_rate_mg_per_min=reader.decimal("dose_rate_round_step_mg_per_min"),
        weight_kg=reader.decimal("weight_round_step_kg"),
    )
    limits = rules.DosingLimits(
        dose_hard_stop_mg_per_kg=reader.decimal("dose_hard_stop_mg_per_kg"),
        dose_range_min_mg_per_kg=reader.decimal("dose_range_min_mg_per_kg"),
        dose_range_max_mg_per_kg=reader.decimal("dose_range_max_mg_per_kg"),
        dose_total_ceiling_mg=reader.decimal("dose_total_ceiling_mg"),
        weight_plausible_min_kg=reader.decimal("weight_plausible_min_kg"),
        weight_plausible_max_kg=reader.decimal("weight_plausible_max_kg"),
        height_plausible_min_cm=reader.decimal("height_plausible_min_cm"),
        height_plausible_max_cm=reader.decimal("height_plausible_max_cm"),
        weight_measured_max_age_days=reader.integer("weight_measured_max_age_days"),
        minimum_patient_age_years=reader.integer("minimum_patient_age_years"),
        duration_shortest_min=reader.integer("infusion_duration_shortest_min"),
        duration_longest_min=reader.integer("infusion_duration_longest_min"),
        vial_strengths_mg_per_ml=reader.decimals("vial_strengths_mg_per_ml"),
        pk_peak_ceiling_ng_per_ml=reader.decimal("pk_peak_ceiling_ng_per_ml"),
        obesity_bmi_threshold_kg_per_m2=reader.decimal("obesity_bmi_threshold_kg_per_m2"),
        obese_weight_basis=_weight_basis(reader.text("dosing_weight_basis_obese")),
        adjusted_body_weight_factor=reader.decimal("adjusted_body_weight_factor"),
        rounding=rounding,
    )
    return DosingProtocol(
        population=population,
        limits=limits,
        pk_model_key=reader.text("pk_model").strip().lower(),
        titration_step_mg_per_kg=reader.decimal("dose_titration_step_mg_per_kg"),
        titration_ceiling_mg_per_kg=reader.decimal("dose_titration_ceiling_mg_per_kg"),
        response_threshold_percent=reader.decimal("madrs_response_reduction_percent"),
        standard_dose_mg_per_kg=reader.decimal("dose_standard_mg_per_kg"),
        standard_duration_min=reader.integer("infusion_duration_min"),
        default_vial_strength_mg_per_ml=reader.decimal("vial_strength_default_mg_per_ml"),
        default_diluent_volume_ml=reader.decimal("diluent_volume_default_ml"),
        readings=tuple(reader.readings),
    )
