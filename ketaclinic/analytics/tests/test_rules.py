"""Grouping rules for clinic reports (pure: no database)."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.analytics.rules import (
    COMORBIDITY_BANDS,
    NO_DIAGNOSIS,
    CodedDiagnosis,
    Funnel,
    SeriesFacts,
    category_of,
    comorbidity_band,
    diagnosis_group,
    funnel,
    is_late_responder,
)


def test_the_group_is_the_primary_diagnosis_category_wherever_it_was_recorded() -> None:
    diagnoses = [CodedDiagnosis("F41.1", primary=False), CodedDiagnosis("F33.2", primary=True)]
    assert diagnosis_group(diagnoses) == "F33"


def test_without_a_primary_the_first_recorded_diagnosis_groups_the_patient() -> None:
    assert diagnosis_group([CodedDiagnosis("F43.10", primary=False)]) == "F43"


def test_no_diagnosis_is_its_own_group_and_has_no_comorbidity_band() -> None:
    assert diagnosis_group([]) == NO_DIAGNOSIS
    assert comorbidity_band([]) is None


def test_categories_are_the_three_characters_before_the_dot() -> None:
    assert [category_of(code) for code in ("F33.2", "f42.2", "R45.851", "F32.A")] == [
        "F33",
        "F42",
        "R45",
        "F32",
    ]


@given(st.integers(min_value=1, max_value=30))
def test_every_count_of_diagnoses_falls_in_exactly_one_band(count: int) -> None:
    diagnoses = [CodedDiagnosis("F33.1", primary=index == 0) for index in range(count)]
    band = comorbidity_band(diagnoses)
    assert band == COMORBIDITY_BANDS[min(count - 1, 3)]


def _facts(attended: int, booked_ahead: int = 0, count: int = 6) -> SeriesFacts:
    start = dt.date(2026, 3, 2)
    return SeriesFacts([start + dt.timedelta(days=2 * n) for n in range(attended)], booked_ahead, count)


def test_the_funnel_counts_each_step_of_the_induction_series() -> None:
    series = [_facts(0, 2), _facts(1), _facts(1, booked_ahead=2), _facts(3), _facts(6), _facts(8)]
    assert funnel(series) == Funnel(
        with_plan=6, started=5, reached_midpoint=3, finished_series=2, went_on=1, stopped_after_first=1
    )


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 3), st.integers(4, 10)), max_size=40))
def test_every_funnel_step_is_within_the_one_before(rows: list[tuple[int, int, int]]) -> None:
    result = funnel([_facts(attended, ahead, count) for attended, ahead, count in rows])
    assert result.with_plan >= result.started >= result.finished_series >= result.went_on
    assert result.started >= result.stopped_after_first


def test_a_late_responder_first_responds_after_the_last_infusion_of_the_series() -> None:
    done = _facts(6)  # last of the series on 2026-03-12
    assert is_late_responder(done, dt.date(2026, 3, 13)) is True
    assert is_late_responder(done, dt.date(2026, 3, 12)) is False
    assert is_late_responder(done, None) is None
    assert is_late_responder(_facts(4), dt.date(2026, 3, 20)) is None
