import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.rules import OpeningHoursError, format_day_hours, npi_problem, parse_day_hours


def test_parses_split_day_and_blank_as_closed() -> None:
    assert parse_day_hours("08:00-12:00, 13:00-18:30") == [["08:00", "12:00"], ["13:00", "18:30"]]
    assert parse_day_hours("  ") == []


@pytest.mark.parametrize("text", ["8-5", "18:00-08:00", "09:00-12:00, 11:00-14:00", "24:00-25:00"])
def test_refuses_malformed_reversed_or_overlapping_spans(text: str) -> None:
    with pytest.raises(OpeningHoursError):
        parse_day_hours(text)


@given(st.lists(st.integers(0, 23 * 60 + 58), min_size=0, max_size=6, unique=True))
def test_formatting_round_trips(minutes: list[int]) -> None:
    points = sorted(minutes)
    if len(points) % 2:
        points = points[:-1]
    spans = [
        [f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}"]
        for a, b in zip(points[::2], points[1::2], strict=True)
    ]
    assert parse_day_hours(format_day_hours(spans)) == spans


@pytest.mark.parametrize("npi", ["1234567893", "1245319599"])
def test_an_npi_with_its_check_digit_passes(npi: str) -> None:
    assert npi_problem(npi) is None


@pytest.mark.parametrize(
    ("npi", "problem"),
    [
        ("1234567890", "check digit"),
        ("123456789", "ten digits"),
        ("12345678931", "ten digits"),
        ("12345678a3", "ten digits"),
        ("\uff11" * 9 + "3", "ten digits"),  # full-width digits: digits to str.isdigit, not to us
    ],
)
def test_a_wrong_npi_says_why(npi: str, problem: str) -> None:
    assert problem in (npi_problem(npi) or "")
