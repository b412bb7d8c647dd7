from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.notes.rules import (
    Channel,
    NoteKind,
    Problem,
    Section,
    compose_text,
    note_visible,
    parse_themes,
    problems_before_signing,
)

SECTIONS = [Section("data", "Data"), Section("plan", "Plan"), Section("extra", "Extra", required=False)]


def test_progress_notes_are_visible_everywhere() -> None:
    for channel in Channel:
        assert note_visible(kind=NoteKind.PROGRESS, released=False, viewer_is_author=False, channel=channel)


def test_psychotherapy_note_is_its_authors_in_the_chart_only_until_released() -> None:
    kind = NoteKind.PSYCHOTHERAPY
    assert note_visible(kind=kind, released=False, viewer_is_author=True, channel=Channel.CHART) is True
    for channel in (Channel.API, Channel.PORTAL, Channel.EXPORT):
        assert note_visible(kind=kind, released=False, viewer_is_author=True, channel=channel) is False
    for channel in Channel:
        assert note_visible(kind=kind, released=False, viewer_is_author=False, channel=channel) is False
        assert note_visible(kind=kind, released=True, viewer_is_author=False, channel=channel) is True


def test_signing_needs_required_sections_length_and_risk() -> None:
    problems = problems_before_signing(
        sections=SECTIONS,
        texts={"data": " "},
        structured=True,
        session_length_min=None,
        risk_level="not_assessed",
    )
    assert problems == [
        Problem("data", "Data is empty."),
        Problem("plan", "Plan is empty."),
        Problem("session_length_min", "Enter the session length in minutes."),
        Problem("risk_level", "Record the risk assessment before signing."),
    ]


def test_a_complete_note_has_no_problems() -> None:
    texts = {"data": "x", "plan": "y"}
    assert (
        problems_before_signing(
            sections=SECTIONS, texts=texts, structured=True, session_length_min=50, risk_level="low"
        )
        == []
    )
    assert (
        problems_before_signing(
            sections=SECTIONS,
            texts=texts,
            structured=False,
            session_length_min=None,
            risk_level="not_assessed",
        )
        == []
    )


def test_compose_text_labels_sections_and_themes() -> None:
    text = compose_text(sections=SECTIONS, texts={"data": " Slept ", "plan": ""}, themes="grief")
    assert text == "Data: Slept\nThemes: grief"


def test_themes_are_trimmed_and_once() -> None:
    assert parse_themes(" grief,  sleep ,,Grief, work  life ") == ["grief", "sleep", "work life"]


@given(st.text(max_size=200))
def test_themes_never_empty_or_repeated(raw: str) -> None:
    themes = parse_themes(raw)
    assert all(theme.strip() == theme and theme for theme in themes)
    assert len({theme.lower() for theme in themes}) == len(themes)
