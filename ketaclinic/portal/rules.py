"""Pure rules of the portal and the public site: the editor's small text format, who sees which part of a
record, the wording a guardian answers a child's questionnaire in, the record's access log as people read it,
and which staff roles answer which kind of message. No Django import."""

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.accounts.roles import Role

# --- The public site's text format ------------------------------------------------------------------------
# The clinic admin writes plain text: a blank line starts a paragraph, "## " a heading, "- " a list item,
# **words** are bold and [words](address) is a link. Nothing else is markup, and the output is a tree of
# plain strings that the template escapes: no HTML from the editor ever reaches a page.

_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_SAFE_HREF = re.compile(
    r"^(tel:\+?[0-9][0-9 ()-]*|mailto:[^\s<>\"']+|https://[^\s<>\"']+|/[^\s<>\"']*|#[\w-]+)$"
)


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST = "list"


@dataclass(frozen=True)
class Span:
    text: str
    href: str = ""
    strong: bool = False


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    lines: tuple[tuple[Span, ...], ...]


def is_safe_href(href: str) -> bool:
    """Only phone, mail, https and same-site addresses: no javascript:, data: or plain http."""
    return bool(_SAFE_HREF.match(href))


def unsafe_links(text: str) -> list[str]:
    """The link addresses of `text` that the format refuses."""
    return [match.group(2) for match in _LINK.finditer(text) if not is_safe_href(match.group(2))]


def _bold_spans(text: str, href: str = "") -> list[Span]:
    spans: list[Span] = []
    position = 0
    for match in _BOLD.finditer(text):
        if match.start() > position:
            spans.append(Span(text[position : match.start()], href))
        spans.append(Span(match.group(1), href, strong=True))
        position = match.end()
    if position < len(text):
        spans.append(Span(text[position:], href))
    return spans


def inline_spans(text: str) -> tuple[Span, ...]:
    """One line's spans: links (an unsafe address is shown as plain text) and bold."""
    spans: list[Span] = []
    position = 0
    for match in _LINK.finditer(text):
        spans.extend(_bold_spans(text[position : match.start()]))
        label, href = match.group(1), match.group(2)
        spans.extend(_bold_spans(label, href) if is_safe_href(href) else _bold_spans(match.group(0)))
        position = match.end()
    spans.extend(_bold_spans(text[position:]))
    return tuple(span for span in spans if span.text)


def parse_page_text(text: str) -> tuple[Block, ...]:
    """The blocks of a page written in the editor's format."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block(BlockKind.PARAGRAPH, (inline_spans(" ".join(paragraph)),)))
            paragraph.clear()
        if items:
            blocks.append(Block(BlockKind.LIST, tuple(inline_spans(item) for item in items)))
            items.clear()

    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            blocks.append(Block(BlockKind.HEADING, (inline_spans(line[3:].strip()),)))
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:].strip())
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return tuple(blocks)


# --- Who sees what ----------------------------------------------------------------------------------------


class Relation(StrEnum):
    """How the signed-in person stands to the record."""

    SELF = "self"
    GUARDIAN = "guardian"


class Section(StrEnum):
    OVERVIEW = "overview"
    VISITS = "visits"
    SCALES = "scales"
    PROGRESS = "progress"
    CONSENTS = "consents"
    MESSAGES = "messages"
    ACCESS_LOG = "access_log"
    # Estimates to acknowledge, invoices, receipts and superbills: billing's own pages for the record's
    # patient or guardian (`/billing/my/`).
    BILLING = "billing"


FULL_VIEW: tuple[Section, ...] = tuple(Section)
# A minor who signs in to their own record (from the clinic's age) sees their visits, questionnaires and
# progress: consents are their guardian's to sign, and messages and the access log stay with the guardian.
REDUCED_VIEW: tuple[Section, ...] = (Section.OVERVIEW, Section.VISITS, Section.SCALES, Section.PROGRESS)


def sections_for(
    relation: Relation, *, age_years: int, age_of_majority_years: int, own_view_from_age_years: int
) -> tuple[Section, ...]:
    """The parts of a record the person sees: a guardian and an adult patient everything; a minor patient
    from the clinic's age the reduced view; a younger child nothing of their own (their guardian signs in)."""
    if relation == Relation.GUARDIAN or age_years >= age_of_majority_years:
        return FULL_VIEW
    if age_years >= own_view_from_age_years:
        return REDUCED_VIEW
    return ()


# --- A guardian answering about a child -------------------------------------------------------------------


@dataclass(frozen=True)
class InformantWording:
    """An instrument's instructions and item texts as a parent or guardian answers about the child.
    `{name}` stands for the child's first name."""

    instructions: str
    items: dict[str, str]
    source: str


# PHQ-9 is free to use and adapt (Pfizer: "no permission required to reproduce, translate, display or
# distribute"); its informant form here follows the parent-report adaptation of the PHQ-A, which changes
# the person addressed and nothing else. GAD-7 has the same terms.
INFORMANT_WORDING: dict[str, InformantWording] = {
    "phq9": InformantWording(
        instructions=(
            "Over the last 2 weeks, how often has {name} been bothered by any of the following problems? "
            "Answer about {name}, as you have seen it."
        ),
        items={
            "6": "Feeling bad about themself — or that they are a failure or have let themself or the "
            "family down",
            "7": "Trouble concentrating on things, such as schoolwork, reading or watching television",
            "8": "Moving or speaking so slowly that other people could have noticed? Or the opposite — being "
            "so fidgety or restless that they have been moving around a lot more than usual",
            "9": "Thoughts that they would be better off dead or of hurting themself in some way",
            "difficulty": "If any problems were checked, how difficult have these problems made it for "
            "{name} to do schoolwork, take care of things at home, or get along with other people?",
        },
        source="PHQ-9 (Kroenke, Spitzer, Williams 2001; free to use), parent-report wording after the PHQ-A.",
    ),
    "gad7": InformantWording(
        instructions=(
            "Over the last 2 weeks, how often has {name} been bothered by the following problems? "
            "Answer about {name}, as you have seen it."
        ),
        items={},
        source="GAD-7 (Spitzer et al. 2006; free to use), parent-report wording.",
    ),
}


def informant_text(template: str, child_name: str) -> str:
    """A wording with the child's name put in (or "your child" without a name)."""
    return template.replace("{name}", child_name.strip() or "your child")


# --- The access log as people read it ---------------------------------------------------------------------


@dataclass(frozen=True)
class LogEvent:
    """One audit entry, in the clinic's time. `actor_id` None: the system or a device wrote it."""

    at: dt.datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    action: str
    what: str


@dataclass(frozen=True)
class LogLine:
    at: dt.datetime
    until: dt.datetime | None
    who: str
    role: str
    what: str
    count: int
    by_device: bool
    is_viewer: bool


def access_log_lines(
    events: Sequence[LogEvent], *, viewer_id: int, viewer_name: str, record_name: str
) -> list[LogLine]:
    """The access log newest first: one line per person's action; entries with no person (a bedside monitor's
    readings, the system) collapsed into one line per kind per clinic day, with their count and time span.
    The viewer's own entries read "Claire (you)"."""
    lines: list[LogLine] = []
    device_groups: dict[tuple[dt.date, str], list[LogEvent]] = {}
    for event in events:
        if event.actor_id is None:
            device_groups.setdefault((event.at.date(), event.what), []).append(event)
            continue
        is_viewer = event.actor_id == viewer_id
        who = f"{viewer_name} (you)" if is_viewer else event.actor_name
        lines.append(
            LogLine(
                at=event.at,
                until=None,
                who=who,
                role=event.actor_role,
                what=f"{event.action} {record_name}'s record"
                if event.what == "own record"
                else f"{event.action} {event.what}",
                count=1,
                by_device=False,
                is_viewer=is_viewer,
            )
        )
    for (_day, what), group in device_groups.items():
        times = sorted(event.at for event in group)
        lines.append(
            LogLine(
                at=times[-1],
                until=None if len(times) == 1 else times[0],
                who="Bedside monitor or system",
                role="",
                what=f"{group[0].action} {what}",
                count=len(group),
                by_device=True,
                is_viewer=False,
            )
        )
    return sorted(lines, key=lambda line: line.at, reverse=True)


# --- Messages ---------------------------------------------------------------------------------------------


class Topic(StrEnum):
    CARE = "care"
    APPOINTMENTS = "appointments"
    BILLING = "billing"


TOPIC_LABELS: dict[Topic, str] = {
    Topic.CARE: "My treatment (nurses and clinicians)",
    Topic.APPOINTMENTS: "Appointments (front desk)",
    Topic.BILLING: "Bills and payments (billing)",
}

# Which staff roles answer which topic: the inbox shows each person the messages of their role's topics.
TOPIC_ROLES: dict[Topic, frozenset[Role]] = {
    Topic.CARE: frozenset({Role.CLINICIAN, Role.NURSE}),
    Topic.APPOINTMENTS: frozenset({Role.FRONT_DESK}),
    Topic.BILLING: frozenset({Role.BILLING_CLERK}),
}


def topics_for_role(role: Role | None) -> tuple[Topic, ...]:
    """The message topics a staff role answers (none for a role outside the table)."""
    return tuple(topic for topic, roles in TOPIC_ROLES.items() if role in roles)


MESSAGE_MAX_CHARS = 4000
PAGE_MAX_CHARS = 20000


def text_problem(text: str, *, limit: int) -> str | None:
    """Why a message or page text cannot be saved, or None."""
    if not text.strip():
        return "Write something first."
    if len(text) > limit:
        return f"At most {limit} characters."
    return None


# --- Phone numbers and opening hours ----------------------------------------------------------------------

_DAYS = (
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
)


def tel_href(phone: str) -> str:
    """A `tel:` address for a phone number as written ('(555) 010-1000' -> 'tel:5550101000'); '' for none."""
    digits = "".join(character for character in phone if character.isdigit())
    if not digits:
        return ""
    return f"tel:{'+' if phone.strip().startswith('+') else ''}{digits}"


def hours_lines(opening_hours: object) -> list[str]:
    """A clinic's opening hours, one line per day ('Mon 08:00-18:00'), 'Closed' for a day without hours.
    Anything malformed in the stored value is left out rather than shown wrongly."""
    if not isinstance(opening_hours, dict) or not opening_hours:
        return []
    lines = []
    for key, label in _DAYS:
        spans = opening_hours.get(key) or []
        shown = [
            f"{span[0]}\u2013{span[1]}"
            for span in spans
            if isinstance(span, (list, tuple))
            and len(span) == 2
            and all(isinstance(part, str) for part in span)
        ]
        lines.append(f"{label} {', '.join(shown)}" if shown else f"{label} closed")
    return lines
