"""Grouping rules for clinic reports (pure: no database)."""

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.analytics.rules import (
    COMORBIDITY_BANDS,
    NO_DIAGNOSIS,
    CodedDiagnosis,
    category_of,
    comorbidity_band,
    diagnosis_group,
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
