"""Pure rules of clinical documentation: what a note needs before it is signed, who may see a psychotherapy
note and where, and how a note's text is composed for search. No Django import."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class NoteKind(StrEnum):
    PROGRESS = "progress"
    # HIPAA's psychotherapy notes (45 CFR 164.501): the therapist's own notes, kept apart from the record.
    PSYCHOTHERAPY = "psychotherapy"


class Channel(StrEnum):
    """Where a note would be shown."""

    CHART = "chart"
    API = "api"
    PORTAL = "portal"
    EXPORT = "export"


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    hint: str = ""
    required: bool = True


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def note_visible(*, kind: str, released: bool, viewer_is_author: bool, channel: Channel) -> bool:
    """Whether a note may be shown to a viewer already allowed to read the patient's notes.

    A progress note is part of the record. A psychotherapy note is kept apart: until its author releases it,
    only its author reads it, and only in the chart; it never leaves through the API, the portal or an export.
    """
    if kind != NoteKind.PSYCHOTHERAPY:
        return True
    if released:
        return True
    return viewer_is_author and channel == Channel.CHART


def problems_before_signing(
    *,
    sections: Sequence[Section],
    texts: Mapping[str, str],
    structured: bool,
    session_length_min: int | None,
    risk_level: str,
) -> list[Problem]:
    """What stops a draft from being signed: an empty required section; for a session template, the session
    length and a risk assessment (a clinician signs to having asked)."""
    problems = [
        Problem(section.key, f"{section.label} is empty.")
        for section in sections
        if section.required and not texts.get(section.key, "").strip()
    ]
    if structured:
        if session_length_min is None or session_length_min <= 0:
            problems.append(Problem("session_length_min", "Enter the session length in minutes."))
        if risk_level in ("", "not_assessed"):
            problems.append(Problem("risk_level", "Record the risk assessment before signing."))
    return problems


def compose_text(*, sections: Sequence[Section], texts: Mapping[str, str], themes: str = "") -> str:
    """The note's searchable text: each section's label and text, then the themes."""
    parts = [
        f"{section.label}: {texts[section.key].strip()}"
        for section in sections
        if texts.get(section.key, "").strip()
    ]
    if themes.strip():
        parts.append(f"Themes: {themes.strip()}")
    return "\n".join(parts)


def parse_themes(raw: str) -> list[str]:
    """Themes typed as a comma-separated list: trimmed, empty ones dropped, duplicates (any case) once."""
    seen: set[str] = set()
    themes: list[str] = []
    for part in raw.split(","):
        theme = " ".join(part.split())
        if theme and theme.lower() not in seen:
            seen.add(theme.lower())
            themes.append(theme)
    return themes
