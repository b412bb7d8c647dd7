import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.interop.hl7 import rules
from ketaclinic.interop.hl7.rules import Observation, VitalSign

ZONE = ZoneInfo("America/New_York")


def obx(code: str, system: str, value: str, unit: str, status: str = "F", text: str = "") -> Observation:
    return Observation(code, text, system, value, unit, "", status)


def test_maps_loinc_and_mdc_codes_with_their_units() -> None:
    mapped = rules.map_observations(
        [
            obx("150021", "MDC", "121", "266016"),
            obx("8462-4", "LN", "10.6", "kPa"),
            obx("", "MDC", "72", "MDC_DIM_BEAT_PER_MIN", text="MDC_ECG_HEART_RATE"),
            obx("149530", "MDC", "75", "264864"),
            obx("8310-5", "LN", "36.6", "Cel", text="Body temperature"),
            obx("59408-5", "LN", "", "%", status="X"),
        ]
    )
    assert mapped.values == {VitalSign.SYSTOLIC: 121, VitalSign.DIASTOLIC: 80, VitalSign.HEART_RATE: 72}
    assert mapped.problems == []
    assert mapped.left_out == [
        "149530: a second heart_rate_bpm, the first is kept",
        "Body temperature: not a vital sign we chart",
        "59408-5: status X carries no value",
    ]


def test_a_known_sign_in_an_unknown_unit_or_not_a_number_is_a_problem() -> None:
    mapped = rules.map_observations(
        [obx("8480-6", "LN", "120", "[psi]"), obx("8867-4", "LN", "fast", "/min")]
    )
    assert [problem.message for problem in mapped.problems] == [
        "8480-6: unit [psi] is not one we read",
        "8867-4: 'fast' is no number",
    ]
    assert mapped.values == {}


@given(st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2))
def test_kilopascal_converts_to_the_nearest_whole_mmhg(kpa: Decimal) -> None:
    mapped = rules.map_observations([obx("8480-6", "LN", str(kpa), "kPa")])
    assert abs(mapped.values[VitalSign.SYSTOLIC] - kpa * Decimal("7.50062")) <= Decimal("0.5")


def test_timestamps_with_and_without_offset() -> None:
    assert rules.parse_timestamp("20261206093015+0100", ZONE) == dt.datetime(
        2026, 12, 6, 8, 30, 15, tzinfo=dt.UTC
    )
    assert rules.parse_timestamp("202612060930", ZONE) == dt.datetime(2026, 12, 6, 9, 30, tzinfo=ZONE)
    assert rules.parse_timestamp("20261306", ZONE) is None
    assert rules.parse_timestamp("", ZONE) is None
    assert rules.parse_date("19810229") is None
    assert rules.parse_date("19840229") == dt.date(1984, 2, 29)


@given(st.text(max_size=30))
def test_parse_timestamp_never_raises(text: str) -> None:
    rules.parse_timestamp(text, ZONE)


def test_name_keys_ignore_case_accents_and_hyphens() -> None:
    assert rules.name_key("Zoë Martin-Lee") == rules.name_key("ZOE MARTINLEE") == "zoemartinlee"
