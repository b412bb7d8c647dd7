"""The portal's pure rules, without a database."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.accounts.roles import Role
from ketaclinic.portal import rules
from ketaclinic.portal.rules import Block, BlockKind, LogEvent, Relation, Section, Span, Topic

T0 = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


def test_page_text_becomes_headings_paragraphs_and_lists() -> None:
    text = "## Before you come\nNo food for **2 hours**.\nA second line.\n\n- Call [988](tel:988)\n- Rest"
    assert rules.parse_page_text(text) == (
        Block(BlockKind.HEADING, ((Span("Before you come"),),)),
        Block(
            BlockKind.PARAGRAPH,
            ((Span("No food for "), Span("2 hours", strong=True), Span(". A second line.")),),
        ),
        Block(BlockKind.LIST, ((Span("Call "), Span("988", href="tel:988")), (Span("Rest"),))),
    )


def test_an_unsafe_link_stays_plain_text_and_html_is_only_text() -> None:
    text = "<script>x</script> [click](javascript:alert(1))"
    (block,) = rules.parse_page_text(text)
    assert block.kind == BlockKind.PARAGRAPH
    assert "".join(span.text for span in block.lines[0]) == text
    assert [span.href for span in block.lines[0]] == ["", "", ""]
    assert rules.unsafe_links("[a](javascript:x) [b](https://ok.example) [c](http://plain.example)") == [
        "javascript:x",
        "http://plain.example",
    ]


@given(st.text(max_size=300))
def test_no_text_ever_yields_an_unsafe_link(text: str) -> None:
    for block in rules.parse_page_text(text):
        for line in block.lines:
            for span in line:
                assert span.href == "" or rules.is_safe_href(span.href)
                assert span.text


def test_sections_by_relation_and_age() -> None:
    ages = {"age_of_majority_years": 18, "own_view_from_age_years": 13}
    assert rules.sections_for(Relation.GUARDIAN, age_years=9, **ages) == tuple(Section)
    assert rules.sections_for(Relation.SELF, age_years=40, **ages) == tuple(Section)
    assert rules.sections_for(Relation.SELF, age_years=18, **ages) == tuple(Section)
    assert rules.sections_for(Relation.SELF, age_years=13, **ages) == (
        Section.OVERVIEW,
        Section.VISITS,
        Section.SCALES,
        Section.PROGRESS,
    )
    assert rules.sections_for(Relation.SELF, age_years=12, **ages) == ()


def _event(minutes: int, actor_id: int | None, name: str = "", what: str = "patient") -> LogEvent:
    return LogEvent(
        at=T0 + dt.timedelta(minutes=minutes),
        actor_id=actor_id,
        actor_name=name,
        actor_role="Nurse" if actor_id else "",
        action="Created" if actor_id is None else "Viewed",
        what=what,
    )


def test_device_writes_collapse_into_one_line_and_the_viewer_reads_you() -> None:
    events = [
        _event(30, 7, "Claire Bennett", "own record"),
        *[_event(minute, None, what="infusion vital signs") for minute in (3, 6, 9, 12)],
        _event(1, 2, "Nurse Tester"),
    ]
    lines = rules.access_log_lines(events, viewer_id=7, viewer_name="Claire", record_name="Noah")
    assert [(line.who, line.what, line.count, line.by_device) for line in lines] == [
        ("Claire (you)", "Viewed Noah's record", 1, False),
        ("Bedside monitor or system", "Created infusion vital signs", 4, True),
        ("Nurse Tester", "Viewed patient", 1, False),
    ]
    assert (lines[1].at, lines[1].until) == (T0 + dt.timedelta(minutes=12), T0 + dt.timedelta(minutes=3))


def test_informant_wording_names_the_child() -> None:
    wording = rules.INFORMANT_WORDING["phq9"]
    assert rules.informant_text(wording.instructions, "Noah").startswith(
        "Over the last 2 weeks, how often has Noah been bothered"
    )
    assert rules.informant_text("How is {name}?", " ") == "How is your child?"
    assert "you" not in rules.informant_text(wording.items["9"], "Noah").split()


def test_topics_by_role() -> None:
    assert rules.topics_for_role(Role.NURSE) == (Topic.CARE,)
    assert rules.topics_for_role(Role.FRONT_DESK) == (Topic.APPOINTMENTS,)
    assert rules.topics_for_role(Role.BILLING_CLERK) == (Topic.BILLING,)
    assert rules.topics_for_role(Role.CUSTODIAN) == ()


def test_phone_numbers_become_tel_addresses() -> None:
    assert rules.tel_href("(555) 010-1000") == "tel:5550101000"
    assert rules.tel_href("+1 555 010 1000") == "tel:+15550101000"
    assert rules.tel_href("") == ""


def test_opening_hours_lines() -> None:
    hours = {"mon": [["08:00", "18:00"]], "tue": [["08:00", "12:00"], ["13:00", "17:00"]], "wed": "bad"}
    assert rules.hours_lines(hours) == [
        "Mon 08:00\u201318:00",
        "Tue 08:00\u201312:00, 13:00\u201317:00",
        "Wed closed",
        "Thu closed",
        "Fri closed",
        "Sat closed",
        "Sun closed",
    ]
    assert rules.hours_lines({}) == []


def test_text_problems() -> None:
    assert rules.text_problem("  ", limit=10) == "Write something first."
    assert rules.text_problem("x" * 11, limit=10) == "At most 10 characters."
    assert rules.text_problem("fine", limit=10) is None
