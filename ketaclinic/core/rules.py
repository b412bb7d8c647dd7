"""Pure rules of the shared kernel: reading and writing a clinic's opening hours."""

import re

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$")


class OpeningHoursError(ValueError):
    pass


def parse_day_hours(text: str) -> list[list[str]]:
    """'08:00-12:00, 13:00-18:00' -> [["08:00", "12:00"], ["13:00", "18:00"]]; blank means closed.

    Spans must each close after they open and must not overlap.
    """
    spans: list[list[str]] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        match = _SPAN.match(part)
        if match is None:
            raise OpeningHoursError(f"'{part}' is not a time span like 08:00-18:00.")
        opens, closes = f"{match[1]}:{match[2]}", f"{match[3]}:{match[4]}"
        if closes <= opens:
            raise OpeningHoursError(f"In '{part}' the clinic closes before it opens.")
        if spans and opens < spans[-1][1]:
            raise OpeningHoursError(f"'{part}' overlaps the span before it; list spans in order.")
        spans.append([opens, closes])
    return spans


def format_day_hours(spans: list[list[str]]) -> str:
    return ", ".join(f"{opens}-{closes}" for opens, closes in spans)
