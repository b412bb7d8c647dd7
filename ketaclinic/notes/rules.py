"""Pure rules of clinical documentation: what a note needs before it is signed, who may see a psychotherapy
note and where, and how a note's text is composed for search. No Django import."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
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


# Outside records: what may be filed, by the file's real type (its first bytes), never its name.
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
DOCUMENT_MEDIA_TYPES: frozenset[str] = frozenset({"application/pdf", "image/jpeg", "image/png", "image/tiff"})
# Names in a PDF that run something when it is opened: such a file is refused rather than stored.
_PDF_ACTIVE_CONTENT = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction")


def document_problem(*, media_type: str | None, size_bytes: int, content: bytes) -> str | None:
    """Why an uploaded file cannot be filed, or None: empty, too large, not a PDF or image by its content,
    or a PDF carrying active content (scripts, launch actions, embedded files)."""
    if size_bytes == 0:
        return "The file is empty."
    if size_bytes > DOCUMENT_MAX_BYTES:
        return f"The file is larger than {DOCUMENT_MAX_BYTES // (1024 * 1024)} MB."
    if media_type not in DOCUMENT_MEDIA_TYPES:
        return "Only PDF, JPEG, PNG and TIFF files are filed (judged by the file's content, not its name)."
    if media_type == "application/pdf" and any(marker in content for marker in _PDF_ACTIVE_CONTENT):
        return "The PDF carries active content (scripts or embedded files) and is refused."
    return None


@dataclass(frozen=True)
class ScaleSummary:
    short_name: str
    baseline: str
    latest: str
    percent_change: str | None


@dataclass(frozen=True)
class LetterFacts:
    """What a letter's first draft is built from, read from the record."""

    patient_name: str
    date_of_birth: str
    clinic_name: str
    author_name: str
    eligibility: str | None
    eligibility_reasons: str
    eligibility_conditions: str
    infusion_count: int
    first_infusion: str | None
    last_infusion: str | None
    scales: tuple[ScaleSummary, ...]


def _scales_paragraph(facts: LetterFacts) -> str:
    if not facts.scales:
        return "No validated scales have been recorded yet."
    lines = []
    for scale in facts.scales:
        change = f" ({scale.percent_change}% from baseline)" if scale.percent_change is not None else ""
        lines.append(f"{scale.short_name}: baseline {scale.baseline}, latest {scale.latest}{change}.")
    return " ".join(lines)


def letter_draft(kind: str, facts: LetterFacts) -> tuple[str, str]:
    """The subject and body of a new letter of `kind`, written from the record's facts; the author edits it
    before signing."""
    who = f"{facts.patient_name} (born {facts.date_of_birth})"
    decision = (
        f"The signed eligibility decision is: {facts.eligibility}."
        + (f" Reasons: {facts.eligibility_reasons}" if facts.eligibility_reasons else "")
        + (f" Conditions: {facts.eligibility_conditions}" if facts.eligibility_conditions else "")
        if facts.eligibility
        else "No eligibility decision has been signed yet."
    )
    series = (
        f"{facts.infusion_count} infusion(s) were given "
        f"between {facts.first_infusion} and {facts.last_infusion}."
        if facts.infusion_count
        else "No infusions have been given yet."
    )
    closing = f"With kind regards,\n{facts.author_name}\n{facts.clinic_name}"
    if kind == "consultation_summary":
        subject = f"Consultation summary: {who}"
        body = (
            f"Thank you for referring {facts.patient_name}, whom we assessed for ketamine infusion "
            f"therapy at {facts.clinic_name}.\n\n{decision}\n\n{_scales_paragraph(facts)}\n\n{closing}"
        )
    elif kind == "eligibility_decision":
        subject = f"Eligibility for ketamine infusion therapy: {who}"
        body = f"We write to tell you our decision about {facts.patient_name}.\n\n{decision}\n\n{closing}"
    elif kind == "series_summary":
        subject = f"Summary of the infusion series: {who}"
        body = (
            f"{facts.patient_name} has completed an infusion series at {facts.clinic_name}."
            f"\n\n{series}\n\n"
            f"Outcomes on the validated scales: {_scales_paragraph(facts)} The outcome graph is attached."
            f"\n\n{closing}"
        )
    else:
        subject = f"Discharge from the ketamine programme: {who}"
        body = (
            f"{facts.patient_name} is discharged from our ketamine programme.\n\n{series}\n\n"
            f"{_scales_paragraph(facts)}\n\nWe would be grateful if you would resume their care.\n\n{closing}"
        )
    return subject, body


def authorisation_covers(*, scope: str, signed_on: str, expires_on: str, today: str, letter: bool) -> bool:
    """Whether an authorisation allows a release today: signed, not expired (ISO dates compare as text) and
    its scope covering a letter (both scopes do) or more of the record (only the record scope)."""
    if not signed_on <= today <= expires_on:
        return False
    return letter or scope == "record"


# --- documenting a psychotherapy session ------------------------------------------------------------------

SESSION_KIND = "psychotherapy"
DOCUMENTABLE_STATUSES = ("booked", "checked_in", "attended")
# The shipped templates a psychotherapy session's note starts from: preparation before the first infusion,
# integration after it.
PREPARATION_TEMPLATE_CODE = "kap-preparation"
INTEGRATION_TEMPLATE_CODE = "kap-integration"


def session_template_code(*, session_on: date, first_infusion_on: date | None) -> str:
    """The template a session's note starts from: integration once an infusion was attended on an earlier
    day, preparation before that (a session on the first infusion's own day is taken as preparation)."""
    if first_infusion_on is not None and first_infusion_on < session_on:
        return INTEGRATION_TEMPLATE_CODE
    return PREPARATION_TEMPLATE_CODE


def session_problem(*, appointment_kind: str, status: str, same_patient: bool, started: bool) -> str | None:
    """Why a note cannot document this appointment, or None when it can: a psychotherapy session of the same
    patient that has begun and was not cancelled or missed."""
    if not same_patient or appointment_kind != SESSION_KIND:
        return "Choose one of this patient's psychotherapy sessions."
    if status not in DOCUMENTABLE_STATUSES:
        return "A cancelled or missed session is not documented."
    if not started:
        return "This session has not taken place yet."
    return None


def session_documented(*, signed_note_kinds: Sequence[str]) -> bool:
    """A session is documented once a signed progress note is linked to it (a psychotherapy note, kept apart
    from the record, does not document it for the record)."""
    return NoteKind.PROGRESS in signed_note_kinds


# --- a clinic's templates ---------------------------------------------------------------------------------

TEMPLATE_MAX_SECTIONS = 20


def parse_sections(text: str) -> list[Section]:
    """Sections from lines 'Label: hint' (one a line; a label ending in '(optional)' is not required). The
    key is the label in lower case with underscores; a repeated key gets a number."""
    sections: list[Section] = []
    seen: set[str] = set()
    for line in text.splitlines():
        label, _, hint = line.partition(":")
        label, hint = label.strip(), hint.strip()
        if not label:
            continue
        required = True
        if label.lower().endswith("(optional)"):
            label, required = label[: -len("(optional)")].strip(), False
        base = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")[:30] or "section"
        key, number = base, 2
        while key in seen:
            key, number = f"{base}_{number}", number + 1
        seen.add(key)
        sections.append(Section(key=key, label=label[:80], hint=hint[:200], required=required))
    return sections


def template_problems(*, name: str, sections: Sequence[Section]) -> list[Problem]:
    """What stops a template from being saved: no name, no section, too many sections."""
    problems: list[Problem] = []
    if not name.strip():
        problems.append(Problem("name", "Give the template a name."))
    if not sections:
        problems.append(Problem("sections", "Give at least one section, one a line: 'Label: hint'."))
    elif len(sections) > TEMPLATE_MAX_SECTIONS:
        problems.append(Problem("sections", f"At most {TEMPLATE_MAX_SECTIONS} sections."))
    return problems
