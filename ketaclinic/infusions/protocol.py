"""The protocol a visit runs under: read once when the visit opens, stored on the visit, read back from there.

Reading the protocol once keeps a visit consistent (a threshold edited mid-infusion applies from the next
visit) and cheap: a vital sign arriving every second does not re-read twenty protocol values. The stored
snapshot also cites each value's version, as every clinical record here does.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ketaclinic.core.rules import BodyMeasure, PlausibleRange
from ketaclinic.infusions import rules
from ketaclinic.protocols.rules import as_decimal, parse_value
from ketaclinic.protocols.selectors import ProtocolReading, protocol_value

# Every key a visit reads. The vital-sign and recovery keys shared with screening and scheduling live in
# protocol_defaults.json; the visit's own in infusions.json.
VISIT_KEYS = (
    "infusion_duration_min",
    "predose_systolic_max_mmhg",
    "predose_diastolic_max_mmhg",
    "pause_systolic_above_mmhg",
    "pause_diastolic_above_mmhg",
    "pause_heart_rate_above_bpm",
    "spo2_stop_below_percent",
    "vital_signs_interval_max_min",
    "recovery_observation_minimum_min",
    "aldrete_discharge_minimum",
    "padss_discharge_minimum",
    "discharge_escort_required",
    "discharge_no_driving_until_next_day",
    "warn_systolic_above_mmhg",
    "severe_systolic_above_mmhg",
    "severe_diastolic_above_mmhg",
    "warn_heart_rate_above_bpm",
    "heart_rate_below_bpm",
    "warn_spo2_below_percent",
    "respiratory_rate_below_per_min",
    "sedation_moaas_at_most",
    "alert_sustained_for_min",
    "trend_window_min",
    "trend_systolic_rise_mmhg",
    "warn_diastolic_from_mmhg",
    "warn_diastolic_rise_from_mmhg",
    "bp_return_to_baseline_expected_min",
    "vital_plausible_systolic_min_mmhg",
    "vital_plausible_systolic_max_mmhg",
    "vital_plausible_diastolic_min_mmhg",
    "vital_plausible_diastolic_max_mmhg",
    "vital_plausible_heart_rate_min_bpm",
    "vital_plausible_heart_rate_max_bpm",
    "vital_plausible_spo2_min_percent",
    "vital_plausible_respiratory_rate_max_per_min",
    "spo2_artefact_below_percent",
    "spo2_artefact_normal_heart_rate_min_bpm",
    "spo2_artefact_normal_heart_rate_max_bpm",
    "checkin_checklist_items",
    "checkin_weight_change_max_percent",
    "weight_plausible_min_kg",
    "weight_plausible_max_kg",
    "pregnancy_test_from_age_years",
    "pregnancy_test_to_age_years",
    "checkin_medication_classes_needing_override",
    "discharge_score_scale",
    "aldrete_full_marks_required_on",
    "padss_full_marks_required_on",
    "adverse_event_serious_from_grade",
    *(f"recommend_{code.value}" for code in rules.AlertCode),
    *(
        f"rescue_{drug.value}_{part}"
        for drug in rules.RescueDrug
        for part in ("routes", "dose_min_mg", "dose_max_mg")
    ),
    # A route whose usual dose differs from the drug's first route (hydralazine: 10 mg IV, 25 mg by mouth).
    "rescue_hydralazine_po_dose_min_mg",
    "rescue_hydralazine_po_dose_max_mg",
)


# Read only for a child's visit (population "child"): the age bands that replace the adult heart-rate,
# breathing-rate and low-pressure limits (PROTOCOL.md Part C, C3).
CHILD_KEYS = (
    "child_vital_band_from_age_years",
    "child_heart_rate_min_bpm",
    "child_heart_rate_max_bpm",
    "child_respiratory_rate_min_per_min",
    "child_respiratory_rate_max_per_min",
    "child_low_systolic_base_mmhg",
    "child_low_systolic_per_year_mmhg",
    "child_low_systolic_cap_mmhg",
    "child_bp_screening_mmhg",
)


def keys_for(population: str) -> tuple[str, ...]:
    """The keys a visit of this population reads."""
    return (*VISIT_KEYS, *CHILD_KEYS) if population == "child" else VISIT_KEYS


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class VisitProtocol:
    """The values one visit runs under, typed, by key."""

    values: Mapping[str, Any]

    def integer(self, key: str) -> int:
        value = self.values[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"protocol value {key} is not a whole number: {value!r}")
        return value

    def decimal(self, key: str) -> Decimal:
        return as_decimal(self.values[key])

    def text(self, key: str) -> str:
        return str(self.values[key])

    def boolean(self, key: str) -> bool:
        return bool(self.values[key])

    def optional_integer(self, key: str) -> int | None:
        """The whole number at `key`, or None when the snapshot predates the key."""
        return self.integer(key) if key in self.values else None

    def whole_numbers(self, key: str) -> tuple[int, ...]:
        value = self.values[key]
        if not isinstance(value, tuple) or any(part != int(part) for part in value):
            raise TypeError(f"protocol value {key} is not a list of whole numbers: {value!r}")
        return tuple(int(part) for part in value)

    def child_bands(self) -> rules.ChildVitalBands | None:
        """The child bands, or None for a visit whose snapshot has none (an adult's)."""
        if "child_vital_band_from_age_years" not in self.values:
            return None
        return rules.ChildVitalBands(
            from_age_years=self.whole_numbers("child_vital_band_from_age_years"),
            heart_rate_min_bpm=self.whole_numbers("child_heart_rate_min_bpm"),
            heart_rate_max_bpm=self.whole_numbers("child_heart_rate_max_bpm"),
            respiratory_rate_min_per_min=self.whole_numbers("child_respiratory_rate_min_per_min"),
            respiratory_rate_max_per_min=self.whole_numbers("child_respiratory_rate_max_per_min"),
            low_systolic_base_mmhg=self.integer("child_low_systolic_base_mmhg"),
            low_systolic_per_year_mmhg=self.integer("child_low_systolic_per_year_mmhg"),
            low_systolic_cap_mmhg=self.integer("child_low_systolic_cap_mmhg"),
        )

    def alert_thresholds(self, age_years: int | None = None) -> rules.AlertThresholds:
        """The alert limits; for a child's visit (child bands in the snapshot) and a known age, the child's
        band replaces the adult heart-rate, breathing-rate and low-pressure limits."""
        adult = self._alert_thresholds()
        bands = self.child_bands()
        if bands is None or age_years is None:
            return adult
        return rules.child_thresholds(adult, bands, age_years)

    def _alert_thresholds(self) -> rules.AlertThresholds:
        return rules.AlertThresholds(
            warn_systolic_above_mmhg=self.integer("warn_systolic_above_mmhg"),
            pause_systolic_above_mmhg=self.integer("pause_systolic_above_mmhg"),
            pause_diastolic_above_mmhg=self.integer("pause_diastolic_above_mmhg"),
            severe_systolic_above_mmhg=self.integer("severe_systolic_above_mmhg"),
            severe_diastolic_above_mmhg=self.integer("severe_diastolic_above_mmhg"),
            warn_heart_rate_above_bpm=self.integer("warn_heart_rate_above_bpm"),
            pause_heart_rate_above_bpm=self.integer("pause_heart_rate_above_bpm"),
            heart_rate_below_bpm=self.integer("heart_rate_below_bpm"),
            warn_spo2_below_percent=self.integer("warn_spo2_below_percent"),
            spo2_stop_below_percent=self.integer("spo2_stop_below_percent"),
            respiratory_rate_below_per_min=self.integer("respiratory_rate_below_per_min"),
            sedation_moaas_at_most=self.integer("sedation_moaas_at_most"),
            sustained_for_min=self.integer("alert_sustained_for_min"),
            trend_window_min=self.integer("trend_window_min"),
            trend_systolic_rise_mmhg=self.integer("trend_systolic_rise_mmhg"),
            # A visit opened before these keys shipped has none in its snapshot: no diastolic warning.
            warn_diastolic_from_mmhg=self.optional_integer("warn_diastolic_from_mmhg"),
            warn_diastolic_rise_from_mmhg=self.optional_integer("warn_diastolic_rise_from_mmhg"),
            bp_return_to_baseline_expected_min=self.optional_integer("bp_return_to_baseline_expected_min"),
        )

    def recommendations(self) -> dict[rules.AlertCode, str]:
        return {code: self.text(f"recommend_{code.value}") for code in rules.AlertCode}

    def plausibility(self) -> rules.PlausibilityLimits:
        return rules.PlausibilityLimits(
            systolic_min_mmhg=self.integer("vital_plausible_systolic_min_mmhg"),
            systolic_max_mmhg=self.integer("vital_plausible_systolic_max_mmhg"),
            diastolic_min_mmhg=self.integer("vital_plausible_diastolic_min_mmhg"),
            diastolic_max_mmhg=self.integer("vital_plausible_diastolic_max_mmhg"),
            heart_rate_min_bpm=self.integer("vital_plausible_heart_rate_min_bpm"),
            heart_rate_max_bpm=self.integer("vital_plausible_heart_rate_max_bpm"),
            spo2_min_percent=self.integer("vital_plausible_spo2_min_percent"),
            respiratory_rate_max_per_min=self.integer("vital_plausible_respiratory_rate_max_per_min"),
            spo2_artefact_below_percent=self.integer("spo2_artefact_below_percent"),
            artefact_normal_heart_rate_min_bpm=self.integer("spo2_artefact_normal_heart_rate_min_bpm"),
            artefact_normal_heart_rate_max_bpm=self.integer("spo2_artefact_normal_heart_rate_max_bpm"),
        )

    def checklist_limits(self, age_years: int | None = None) -> rules.ChecklistLimits:
        """The check-in limits; for a child's visit and a known age, the pre-dose BP limits come from the
        child BP screening values for that age instead of the adult pre-dose limit."""
        systolic_max = self.integer("predose_systolic_max_mmhg")
        diastolic_max = self.integer("predose_diastolic_max_mmhg")
        if age_years is not None and "child_bp_screening_mmhg" in self.values:
            table = rules.parse_bp_screening(self.text("child_bp_screening_mmhg"))
            systolic_max, diastolic_max = rules.child_predose_limits(table, age_years)
        items = []
        for key in _split(self.text("checkin_checklist_items")):
            try:
                items.append(rules.ChecklistItem(key))
            except ValueError:
                # An unknown item in the clinic's list cannot be checked; showing it as failed would block
                # every infusion, so it is skipped (the protocol page validates the list on edit).
                continue
        if rules.ChecklistItem.ALLERGIES_RECORDED not in items:
            # Not a clinic option: allergies never asked block the start (PROTOCOL.md §C5), so the item is
            # checked even when a clinic's edited list leaves it out.
            items.append(rules.ChecklistItem.ALLERGIES_RECORDED)
        return rules.ChecklistLimits(
            items=tuple(items),
            weight_change_max_percent=self.decimal("checkin_weight_change_max_percent"),
            predose_systolic_max_mmhg=systolic_max,
            predose_diastolic_max_mmhg=diastolic_max,
            medication_classes_needing_override=frozenset(
                _split(self.text("checkin_medication_classes_needing_override"))
            ),
            escort_required=self.boolean("discharge_escort_required"),
            weight_plausible=self._weight_plausible(),
        )

    def _weight_plausible(self) -> PlausibleRange | None:
        """Today's weight's possible range; None when the visit's snapshot predates it."""
        if "weight_plausible_min_kg" not in self.values or "weight_plausible_max_kg" not in self.values:
            return None
        return PlausibleRange(
            BodyMeasure.WEIGHT,
            self.decimal("weight_plausible_min_kg"),
            self.decimal("weight_plausible_max_kg"),
        )

    def discharge_scale(self) -> rules.DischargeScale:
        try:
            return rules.DischargeScale(self.text("discharge_score_scale").strip().lower())
        except ValueError:
            return rules.DischargeScale.ALDRETE

    def discharge_minimum(self, scale: rules.DischargeScale) -> int:
        if scale is rules.DischargeScale.PADSS:
            return self.integer("padss_discharge_minimum")
        return self.integer("aldrete_discharge_minimum")

    def full_marks_required_on(self, scale: rules.DischargeScale) -> tuple[str, ...]:
        if scale is rules.DischargeScale.ALDRETE:
            return rules.parse_full_marks_items(scale, self.text("aldrete_full_marks_required_on"))
        if "padss_full_marks_required_on" not in self.values:
            return ()  # a visit opened before the key was read
        return rules.parse_full_marks_items(scale, self.text("padss_full_marks_required_on"))

    def rescue_limits(self, drug: rules.RescueDrug) -> rules.RescueDrugLimits:
        routes = []
        for key in _split(self.text(f"rescue_{drug.value}_routes")):
            try:
                routes.append(rules.DrugRoute(key))
            except ValueError:
                continue
        by_route = {
            route: (
                self.decimal(f"rescue_{drug.value}_{route.value}_dose_min_mg"),
                self.decimal(f"rescue_{drug.value}_{route.value}_dose_max_mg"),
            )
            for route in routes
            if f"rescue_{drug.value}_{route.value}_dose_min_mg" in self.values
        }
        return rules.RescueDrugLimits(
            drug=drug,
            routes=frozenset(routes),
            usual_dose_min_mg=self.decimal(f"rescue_{drug.value}_dose_min_mg"),
            usual_dose_max_mg=self.decimal(f"rescue_{drug.value}_dose_max_mg"),
            controlled=drug is rules.RescueDrug.MIDAZOLAM,
            dose_by_route_mg=by_route,
        )


def read_protocol(
    population: str, keys: Iterable[str] | None = None
) -> tuple[VisitProtocol, list[dict[str, Any]]]:
    """The current values for `population` and the snapshot a visit stores (one query per value); `keys`
    defaults to what a visit of that population reads."""
    if keys is None:
        keys = keys_for(population)
    readings: list[ProtocolReading] = [protocol_value(key, population=population) for key in keys]
    snapshot = [
        {
            "key": reading.key,
            "population": reading.population,
            "version": reading.version,
            "value_id": reading.value_id,
            "value_kind": reading.value_kind,
            "value": reading.text,
            "verified": reading.verified,
        }
        for reading in readings
    ]
    return VisitProtocol({reading.key: reading.value for reading in readings}), snapshot


def from_snapshot(snapshot: list[dict[str, Any]]) -> VisitProtocol:
    """The protocol a visit stored when it opened."""
    return VisitProtocol(
        {entry["key"]: parse_value(entry["value_kind"], entry["value"]) for entry in snapshot}
    )
