"""Plausibility of vital-sign readings (pure rules, no database)."""

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.infusions.errors import InfusionRuleError
from ketaclinic.infusions.rules import (
    PlausibilityLimits,
    Reading,
    VitalField,
    implausible_fields,
    require_aware,
    show_number,
)

AT = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)
LIMITS = PlausibilityLimits(
    systolic_min_mmhg=40,
    systolic_max_mmhg=300,
    diastolic_min_mmhg=20,
    diastolic_max_mmhg=200,
    heart_rate_min_bpm=20,
    heart_rate_max_bpm=250,
    spo2_min_percent=20,
    respiratory_rate_max_per_min=60,
    spo2_artefact_below_percent=50,
    artefact_normal_heart_rate_min_bpm=50,
    artefact_normal_heart_rate_max_bpm=100,
)
NORMAL = Reading(
    at=AT,
    systolic_mmhg=124,
    diastolic_mmhg=78,
    heart_rate_bpm=72,
    spo2_percent=98,
    respiratory_rate_per_min=14,
    sedation_moaas=5,
)


def reading(**values: int | None) -> Reading:
    return Reading(at=AT, **values)  # type: ignore[arg-type]


def test_a_normal_reading_has_no_implausible_fields() -> None:
    assert implausible_fields(NORMAL, LIMITS) == {}


def test_missing_values_are_not_implausible() -> None:
    assert implausible_fields(Reading(at=AT), LIMITS) == {}


def test_spo2_of_zero_with_a_normal_heart_rate_is_a_probe_artefact() -> None:
    assert implausible_fields(reading(spo2_percent=0, heart_rate_bpm=72), LIMITS) == {
        VitalField.SPO2: "SpO2 0 % with a heart rate of 72/min: probe off or artefact"
    }


def test_spo2_artefact_rule_boundaries() -> None:
    # Below 50 % with a heart rate from 50 to 100/min inclusive is an artefact; 50 % itself is not.
    assert VitalField.SPO2 in implausible_fields(reading(spo2_percent=49, heart_rate_bpm=50), LIMITS)
    assert VitalField.SPO2 in implausible_fields(reading(spo2_percent=49, heart_rate_bpm=100), LIMITS)
    assert implausible_fields(reading(spo2_percent=50, heart_rate_bpm=72), LIMITS) == {}
    assert implausible_fields(reading(spo2_percent=49, heart_rate_bpm=101), LIMITS) == {}
    assert implausible_fields(reading(spo2_percent=49, heart_rate_bpm=49), LIMITS) == {}


def test_low_spo2_without_a_heart_rate_is_kept_as_a_possible_desaturation() -> None:
    assert implausible_fields(reading(spo2_percent=45), LIMITS) == {}


def test_spo2_above_100_or_below_the_possible_range_is_implausible() -> None:
    assert implausible_fields(reading(spo2_percent=101), LIMITS) == {
        VitalField.SPO2: "SpO2 101 % is outside the possible range 20-100 %: re-check the measurement"
    }
    assert implausible_fields(reading(spo2_percent=100), LIMITS) == {}
    assert implausible_fields(reading(spo2_percent=19, heart_rate_bpm=140), LIMITS) == {
        VitalField.SPO2: "SpO2 19 % is outside the possible range 20-100 %: re-check the measurement"
    }
    assert implausible_fields(reading(spo2_percent=20, heart_rate_bpm=140), LIMITS) == {}


def test_negative_spo2_is_implausible_even_when_the_protocol_range_starts_below_zero() -> None:
    limits = PlausibilityLimits(**{**LIMITS.__dict__, "spo2_min_percent": 0})
    assert implausible_fields(reading(spo2_percent=-1), limits) == {
        VitalField.SPO2: "SpO2 -1 % is outside the possible range 0-100 %: re-check the measurement"
    }


def test_diastolic_not_below_systolic_marks_both() -> None:
    reason = (
        "Diastolic 120 mmHg is not below systolic 120 mmHg: "
        "the values may be swapped or the cuff reading failed"
    )
    assert implausible_fields(reading(systolic_mmhg=120, diastolic_mmhg=120), LIMITS) == {
        VitalField.SYSTOLIC: reason,
        VitalField.DIASTOLIC: reason,
    }
    assert implausible_fields(reading(systolic_mmhg=121, diastolic_mmhg=120), LIMITS) == {}


def test_ranges_are_inclusive_at_both_ends() -> None:
    assert implausible_fields(reading(systolic_mmhg=40, diastolic_mmhg=20), LIMITS) == {}
    assert implausible_fields(reading(systolic_mmhg=300, diastolic_mmhg=200), LIMITS) == {}
    assert implausible_fields(reading(heart_rate_bpm=20), LIMITS) == {}
    assert implausible_fields(reading(heart_rate_bpm=250), LIMITS) == {}
    assert implausible_fields(reading(respiratory_rate_per_min=0), LIMITS) == {}
    assert implausible_fields(reading(respiratory_rate_per_min=60), LIMITS) == {}


def test_values_outside_the_possible_ranges_are_implausible() -> None:
    assert implausible_fields(reading(systolic_mmhg=301), LIMITS) == {
        VitalField.SYSTOLIC: "Systolic 301 mmHg is outside the possible range 40-300 mmHg: "
        "re-check the measurement"
    }
    assert implausible_fields(reading(diastolic_mmhg=19), LIMITS) == {
        VitalField.DIASTOLIC: "Diastolic 19 mmHg is outside the possible range 20-200 mmHg: "
        "re-check the measurement"
    }
    assert implausible_fields(reading(heart_rate_bpm=251), LIMITS) == {
        VitalField.HEART_RATE: "Heart rate 251/min is outside the possible range 20-250/min: "
        "re-check the measurement"
    }
    assert implausible_fields(reading(respiratory_rate_per_min=61), LIMITS) == {
        VitalField.RESPIRATORY_RATE: (
            "Respiratory rate 61/min is outside the possible range 0-60/min: re-check the measurement"
        )
    }
    assert implausible_fields(reading(respiratory_rate_per_min=-1), LIMITS) == {
        VitalField.RESPIRATORY_RATE: (
            "Respiratory rate -1/min is outside the possible range 0-60/min: re-check the measurement"
        )
    }


def test_moaas_outside_0_to_5_is_implausible() -> None:
    assert implausible_fields(reading(sedation_moaas=0), LIMITS) == {}
    assert implausible_fields(reading(sedation_moaas=5), LIMITS) == {}
    assert implausible_fields(reading(sedation_moaas=6), LIMITS) == {
        VitalField.SEDATION: "MOAA/S 6 is outside the possible range 0-5: re-check the measurement"
    }
    assert VitalField.SEDATION in implausible_fields(reading(sedation_moaas=-1), LIMITS)


def test_a_field_with_two_problems_gets_both_reasons() -> None:
    found = implausible_fields(reading(systolic_mmhg=30, diastolic_mmhg=35), LIMITS)
    assert found[VitalField.SYSTOLIC] == (
        "Systolic 30 mmHg is outside the possible range 40-300 mmHg: re-check the measurement; "
        "Diastolic 35 mmHg is not below systolic 30 mmHg: "
        "the values may be swapped or the cuff reading failed"
    )
    assert found[VitalField.DIASTOLIC] == (
        "Diastolic 35 mmHg is not below systolic 30 mmHg: "
        "the values may be swapped or the cuff reading failed"
    )


def test_value_counts_flagged_fields_until_marked_as_artefacts_and_raw_keeps_them() -> None:
    flagged = Reading(at=AT, spo2_percent=0, heart_rate_bpm=72, implausible=frozenset({VitalField.SPO2}))
    assert flagged.value(VitalField.SPO2) == 0
    assert replace(flagged, artefacts=frozenset({VitalField.SPO2})).value(VitalField.SPO2) is None
    flagged = replace(flagged, artefacts=frozenset({VitalField.SPO2}))
    assert flagged.raw(VitalField.SPO2) == 0
    assert flagged.value(VitalField.HEART_RATE) == 72
    assert flagged.value(VitalField.SYSTOLIC) is None


def test_plausibility_is_judged_on_entered_values_whatever_was_flagged_before() -> None:
    flagged = Reading(at=AT, spo2_percent=97, implausible=frozenset({VitalField.SPO2}))
    assert implausible_fields(flagged, LIMITS) == {}


def test_require_aware_refuses_a_naive_time() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        require_aware(dt.datetime(2026, 11, 25, 14, 0), "a reading")
    assert caught.value.code == "invalid_infusion_input"
    assert caught.value.message == "The time of a reading has no time zone; times must be aware."


def test_show_number_writes_numbers_plainly() -> None:
    from decimal import Decimal

    assert [show_number(Decimal("100")), show_number(Decimal("0.50")), show_number(7)] == ["100", "0.5", "7"]


@given(
    systolic=st.integers(min_value=90, max_value=180),
    gap=st.integers(min_value=10, max_value=70),
    heart_rate=st.integers(min_value=40, max_value=180),
    spo2=st.integers(min_value=50, max_value=100),
    respiratory_rate=st.integers(min_value=4, max_value=40),
    sedation=st.integers(min_value=0, max_value=5),
)
def test_readings_inside_the_possible_ranges_are_always_plausible(
    systolic: int, gap: int, heart_rate: int, spo2: int, respiratory_rate: int, sedation: int
) -> None:
    found = implausible_fields(
        reading(
            systolic_mmhg=systolic,
            diastolic_mmhg=systolic - gap,
            heart_rate_bpm=heart_rate,
            spo2_percent=spo2,
            respiratory_rate_per_min=respiratory_rate,
            sedation_moaas=sedation,
        ),
        LIMITS,
    )
    assert found == {}
