"""The shared input limits, as pure functions: ids, id lists, text, numbers and dates."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core import inputs


@given(st.integers(min_value=1, max_value=inputs.MAX_ID))
def test_every_id_in_range_parses_back(value: int) -> None:
    assert inputs.parse_id(str(value)) == value


@given(st.text())
def test_any_text_parses_to_an_id_in_range_or_none(raw: str) -> None:
    parsed = inputs.parse_id(raw)
    assert parsed is None or 1 <= parsed <= inputs.MAX_ID


def test_what_is_not_an_id() -> None:
    assert [
        inputs.parse_id(raw) for raw in ["²", "٣", "1" * 5000, str(2**63), "0", "-1", "", None, " 7 "]
    ] == [
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        7,
    ]


def test_id_lists_keep_only_ids() -> None:
    assert inputs.parse_ids("5,3,²,,x,3," + "9" * 30) == [3, 5]


def test_text_problems() -> None:
    assert inputs.text_problem("line 1\nline 2\ttab\r\n") is None
    assert inputs.text_problem("Zoë ½ 😀") is None
    assert inputs.text_problem("a\x00b") == "Text may not contain control characters (such as NUL)."
    assert inputs.text_problem("\x1b[2J") == "Text may not contain control characters (such as NUL)."
    assert inputs.text_problem("\x85") == "Text may not contain control characters (such as NUL)."
    assert inputs.text_problem("\ud800") == "Text may not contain unpaired surrogate characters."


def test_number_problems() -> None:
    assert [inputs.number_problem(value) for value in [inputs.MAX_ID, -inputs.MAX_ID - 1, True, 1.5]] == [
        None
    ] * 4
    assert inputs.number_problem(2**63) == "Numbers must lie within the range of a 64-bit integer."
    assert inputs.number_problem(float("inf")) == "Numbers must be finite."
    assert inputs.number_problem(float("nan")) == "Numbers must be finite."


def test_plausible_dates() -> None:
    assert inputs.date_problem(dt.date(2026, 12, 6)) is None
    assert inputs.date_problem(dt.date(1900, 1, 1)) == "The date must be on or after 2000-01-01."
    assert inputs.date_problem(dt.date(9999, 12, 31)) == "The date must be on or before 2999-12-31."
    assert inputs.date_problem(dt.date(1899, 12, 31), earliest=inputs.EARLIEST_BIRTH_DATE) == (
        "The date must be on or after 1900-01-01."
    )
    assert inputs.date_problem(dt.date(1900, 1, 1), earliest=inputs.EARLIEST_BIRTH_DATE) is None
