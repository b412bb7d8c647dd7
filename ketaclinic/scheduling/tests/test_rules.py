import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.scheduling import rules
from ketaclinic.scheduling.rules import ClinicDay, Interval, Resources, Shift, SlotError, Spacing

NY = "America/New_York"
WEEKDAY_HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
ALL_WEEK = [Shift(weekday, dt.time(7), dt.time(19)) for weekday in range(7)]


def clinic(closures: tuple[tuple[dt.date, dt.date], ...] = ()) -> ClinicDay:
    return ClinicDay(zone=NY, opening_hours=WEEKDAY_HOURS, closures=closures)


def resources(**busy: dict[int, list[Interval]]) -> Resources:
    return Resources(
        chairs=[1, 2],
        nurse_shifts={10: ALL_WEEK, 11: ALL_WEEK},
        clinician_shifts={20: ALL_WEEK},
        chair_busy=busy.get("chair_busy", {}),
        nurse_busy=busy.get("nurse_busy", {}),
    )


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return rules.local_datetime(dt.date(year, month, day), dt.time(hour, minute), NY)


def test_local_datetime_uses_the_zone_rules_of_that_day() -> None:
    assert local(2026, 1, 15, 9) == dt.datetime(2026, 1, 15, 14, tzinfo=dt.UTC)
    assert local(2026, 7, 15, 9) == dt.datetime(2026, 7, 15, 13, tzinfo=dt.UTC)


def test_a_wall_clock_time_skipped_by_spring_forward_is_refused() -> None:
    with pytest.raises(SlotError) as caught:
        rules.local_datetime(dt.date(2026, 3, 8), dt.time(2, 30), NY)
    assert caught.value.code == "time_does_not_exist"


def test_booking_across_spring_forward_ends_at_the_real_elapsed_time() -> None:
    # 8 March 2026: clocks go from 02:00 to 03:00. A 01:30 start plus 100 min ends at 04:10 local.
    starts = local(2026, 3, 8, 1, 30)
    ends = rules.appointment_end(starts, duration_min=40, recovery_min=60)
    assert ends - starts == dt.timedelta(minutes=100)
    assert ends.astimezone(ZoneInfo(NY)).strftime("%H:%M") == "04:10"


def test_booking_across_fall_back_ends_at_the_real_elapsed_time() -> None:
    # 1 November 2026: clocks go from 02:00 back to 01:00. A 00:30 start plus 100 min ends at 01:10 EST.
    starts = local(2026, 11, 1, 0, 30)
    ends = rules.appointment_end(starts, duration_min=40, recovery_min=60)
    assert ends - starts == dt.timedelta(minutes=100)
    assert ends.astimezone(ZoneInfo(NY)).strftime("%H:%M %Z") == "01:10 EST"


def test_morning_slot_on_the_spring_forward_monday_is_at_the_new_offset() -> None:
    assert local(2026, 3, 9, 9) == dt.datetime(2026, 3, 9, 13, tzinfo=dt.UTC)
    assert local(2026, 11, 2, 9) == dt.datetime(2026, 11, 2, 14, tzinfo=dt.UTC)


def test_slot_inside_opening_hours_passes_and_late_one_is_refused() -> None:
    rules.check_clinic_open(Interval(local(2026, 3, 9, 8), local(2026, 3, 9, 18)), clinic())
    with pytest.raises(SlotError) as caught:
        rules.check_clinic_open(Interval(local(2026, 3, 9, 17), local(2026, 3, 9, 18, 40)), clinic())
    assert caught.value.code == "outside_opening_hours"


def test_closed_day_and_weekend_are_refused() -> None:
    closed = clinic(((dt.date(2026, 12, 24), dt.date(2026, 12, 26)),))
    with pytest.raises(SlotError) as caught:
        rules.check_clinic_open(Interval(local(2026, 12, 24, 9), local(2026, 12, 24, 10)), closed)
    assert caught.value.code == "clinic_closed"
    with pytest.raises(SlotError) as weekend:
        rules.check_clinic_open(Interval(local(2026, 12, 19, 9), local(2026, 12, 19, 10)), closed)
    assert weekend.value.code == "outside_opening_hours"


def test_taken_chair_is_refused_and_free_chair_is_chosen() -> None:
    slot = Interval(local(2026, 3, 9, 9), local(2026, 3, 9, 10, 40))
    busy = {1: [Interval(local(2026, 3, 9, 10), local(2026, 3, 9, 11))]}
    with pytest.raises(SlotError) as caught:
        rules.find_assignment(slot, clinic(), resources(chair_busy=busy), chair_id=1)
    assert caught.value.code == "chair_taken"
    assert rules.find_assignment(slot, clinic(), resources(chair_busy=busy)) == rules.Assignment(2, 10, 20)


def test_back_to_back_bookings_do_not_overlap() -> None:
    busy = {1: [Interval(local(2026, 3, 9, 8), local(2026, 3, 9, 9, 40))]}
    slot = Interval(local(2026, 3, 9, 9, 40), local(2026, 3, 9, 11, 20))
    assert rules.find_assignment(slot, clinic(), resources(chair_busy=busy), chair_id=1).chair_id == 1


def test_nurse_caring_for_another_chair_is_refused() -> None:
    slot = Interval(local(2026, 3, 9, 9), local(2026, 3, 9, 10, 40))
    busy = {10: [slot], 11: [slot]}
    with pytest.raises(SlotError) as caught:
        rules.find_assignment(slot, clinic(), resources(nurse_busy=busy))
    assert caught.value.code == "nurse_taken"


def test_no_clinician_on_shift_is_refused() -> None:
    slot = Interval(local(2026, 3, 9, 9), local(2026, 3, 9, 10, 40))
    off = Resources(
        chairs=[1], nurse_shifts={10: ALL_WEEK}, clinician_shifts={20: [Shift(0, dt.time(12), dt.time(17))]}
    )
    with pytest.raises(SlotError) as caught:
        rules.find_assignment(slot, clinic(), off)
    assert caught.value.code == "no_clinician_on_site"


def test_spacing_refuses_consecutive_days_and_a_fourth_in_a_week() -> None:
    spacing = Spacing(min_days_between=2, max_per_week=3, span_days=21)
    monday = dt.date(2026, 3, 9)
    assert not rules.spacing_allows(monday + dt.timedelta(1), [monday], spacing)
    assert rules.spacing_allows(monday + dt.timedelta(2), [monday], spacing)
    week = [monday, monday + dt.timedelta(2), monday + dt.timedelta(4)]
    assert not rules.spacing_allows(monday + dt.timedelta(6), week, spacing)


def test_propose_series_gives_monday_wednesday_friday_across_spring_forward() -> None:
    proposals = rules.propose_series(
        start=dt.date(2026, 3, 2),
        count=6,
        preferred_time=dt.time(9),
        duration_min=100,
        spacing=Spacing(min_days_between=2, max_per_week=3, span_days=21),
        clinic=clinic(),
        resources=resources(),
    )
    days = [p.starts_at.astimezone(ZoneInfo(NY)).strftime("%a %d %H:%M") for p in proposals]
    assert days == [
        "Mon 02 09:00",
        "Wed 04 09:00",
        "Fri 06 09:00",
        "Mon 09 09:00",
        "Wed 11 09:00",
        "Fri 13 09:00",
    ]
    assert proposals[3].starts_at == dt.datetime(2026, 3, 9, 13, tzinfo=dt.UTC)


def test_propose_series_skips_a_closure_and_a_busy_morning() -> None:
    busy = {
        1: [Interval(local(2026, 3, 4, 9), local(2026, 3, 4, 12))],
        2: [Interval(local(2026, 3, 4, 9), local(2026, 3, 4, 12))],
    }
    proposals = rules.propose_series(
        start=dt.date(2026, 3, 2),
        count=2,
        preferred_time=dt.time(9),
        duration_min=100,
        spacing=Spacing(min_days_between=2, max_per_week=3, span_days=21),
        clinic=clinic(((dt.date(2026, 3, 2), dt.date(2026, 3, 2)),)),
        resources=resources(chair_busy=busy),
    )
    assert [p.starts_at.astimezone(ZoneInfo(NY)).strftime("%a %H:%M") for p in proposals] == [
        "Tue 09:00",
        "Thu 09:00",
    ]


def test_pre_visit_instructions_name_fasting_escort_and_driving() -> None:
    assert rules.pre_visit_instructions(
        fasting_food_hours=2, fasting_liquids_min=30, escort_required=True, no_driving_until_next_day=True
    ) == [
        "Do not eat for 2 hours before your appointment, and drink nothing in the last 30 minutes.",
        "Arrange for a responsible adult to take you home: you cannot leave alone.",
        "Do not drive until the next day, after a night's sleep.",
    ]


def test_reminder_is_due_inside_the_window_only() -> None:
    starts = dt.datetime(2026, 3, 10, 14, tzinfo=dt.UTC)
    assert rules.reminder_due(starts, starts - dt.timedelta(hours=23), hours_before=24)
    assert not rules.reminder_due(starts, starts - dt.timedelta(hours=25), hours_before=24)
    assert not rules.reminder_due(starts, starts, hours_before=24)


busy_interval = st.builds(
    lambda day, hour, length: Interval(
        local(2026, 3, 1 + day, hour), local(2026, 3, 1 + day, hour) + dt.timedelta(minutes=length)
    ),
    st.integers(0, 27),
    st.integers(6, 19),
    st.integers(15, 240),
)


@settings(max_examples=60, deadline=None)
@given(
    start_day=st.integers(0, 20),
    count=st.integers(1, 8),
    hour=st.integers(0, 23),
    min_days=st.integers(1, 3),
    per_week=st.integers(1, 4),
    span=st.integers(1, 28),
    chair_busy=st.lists(busy_interval, max_size=12),
    nurse_busy=st.lists(busy_interval, max_size=6),
    closed_from=st.integers(0, 27),
    closed_days=st.integers(0, 3),
)
def test_proposals_never_double_book_never_break_spacing_and_stay_inside_opening_hours(
    start_day: int,
    count: int,
    hour: int,
    min_days: int,
    per_week: int,
    span: int,
    chair_busy: list[Interval],
    nurse_busy: list[Interval],
    closed_from: int,
    closed_days: int,
) -> None:
    closure_start = dt.date(2026, 3, 1) + dt.timedelta(closed_from)
    day = clinic(((closure_start, closure_start + dt.timedelta(closed_days)),))
    given_resources = Resources(
        chairs=[1, 2],
        nurse_shifts={10: ALL_WEEK},
        clinician_shifts={20: ALL_WEEK},
        chair_busy={1: chair_busy, 2: chair_busy[::2]},
        nurse_busy={10: nurse_busy},
    )
    spacing = Spacing(min_days_between=min_days, max_per_week=per_week, span_days=span)
    proposals = rules.propose_series(
        start=dt.date(2026, 3, 1) + dt.timedelta(start_day),
        count=count,
        preferred_time=dt.time(hour),
        duration_min=100,
        spacing=spacing,
        clinic=day,
        resources=given_resources,
    )
    assert len(proposals) <= count
    slots = [Interval(p.starts_at, p.ends_at) for p in proposals]
    for proposal, slot in zip(proposals, slots, strict=True):
        rules.check_clinic_open(slot, day)  # raises if outside opening hours or on a closure
        assert not any(
            slot.overlaps(taken) for taken in given_resources.chair_busy[proposal.assignment.chair_id]
        )
        assert not any(slot.overlaps(taken) for taken in nurse_busy)
    for index, first in enumerate(proposals):
        for second in proposals[index + 1 :]:
            if (
                first.assignment.chair_id == second.assignment.chair_id
                or first.assignment.nurse_id == second.assignment.nurse_id
            ):
                assert not Interval(first.starts_at, first.ends_at).overlaps(
                    Interval(second.starts_at, second.ends_at)
                )
    days = [rules.to_local(p.starts_at, NY).date() for p in proposals]
    for index, proposed in enumerate(days):
        assert rules.spacing_allows(proposed, days[:index] + days[index + 1 :], spacing)


def test_propose_series_never_proposes_a_time_already_past() -> None:
    proposals = rules.propose_series(
        start=dt.date(2026, 3, 2),
        count=1,
        preferred_time=dt.time(9),
        duration_min=100,
        spacing=Spacing(min_days_between=2, max_per_week=3, span_days=21),
        clinic=clinic(),
        resources=resources(),
        not_before=local(2026, 3, 2, 10, 5),
    )
    assert [p.starts_at for p in proposals] == [local(2026, 3, 2, 10, 15)]


# The calendar grid ---------------------------------------------------------------------------------------

ROWS = rules.grid_rows([(dt.time(8), dt.time(12))], 30)


def test_grid_rows_run_from_opening_to_closing_every_step() -> None:
    assert ROWS == [480, 510, 540, 570, 600, 630, 660, 690]
    assert rules.grid_rows([(dt.time(9, 15), dt.time(10)), (dt.time(14), dt.time(15))], 30)[0] == 540
    assert rules.grid_rows([], 30) == []


def test_a_visit_spans_its_rows_and_the_rest_is_open() -> None:
    cells = rules.lay_out_column(
        ROWS, 30, [rules.GridItem(key=7, starts_min=540, ends_min=640)], windows=[(dt.time(8), dt.time(12))]
    )
    assert [(c.row, c.rowspan, c.keys, c.is_open) for c in cells] == [
        (0, 1, (), True),
        (1, 1, (), True),
        (2, 4, (7,), False),
        (6, 1, (), True),
        (7, 1, (), True),
    ]


def test_overlapping_visits_share_one_block() -> None:
    items = [
        rules.GridItem(key=1, starts_min=480, ends_min=580),
        rules.GridItem(key=2, starts_min=540, ends_min=600),
    ]
    cells = rules.lay_out_column(ROWS, 30, items, windows=[(dt.time(8), dt.time(12))])
    assert (cells[0].row, cells[0].rowspan, cells[0].keys) == (0, 4, (1, 2))


def test_free_rows_outside_the_windows_or_in_the_past_are_not_open() -> None:
    cells = rules.lay_out_column(ROWS, 30, [], windows=[(dt.time(9), dt.time(11))], not_before_min=600)
    assert [c.is_open for c in cells] == [False, False, False, False, True, True, False, False]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=300, max_value=800), st.integers(min_value=1, max_value=300)),
        max_size=8,
    )
)
def test_every_row_is_covered_exactly_once(visits: list[tuple[int, int]]) -> None:
    items = [rules.GridItem(key=n, starts_min=s, ends_min=s + d) for n, (s, d) in enumerate(visits)]
    cells = rules.lay_out_column(ROWS, 30, items, windows=[(dt.time(8), dt.time(12))])
    covered = [row for cell in cells for row in range(cell.row, cell.row + cell.rowspan)]
    assert covered == list(range(len(ROWS)))
    assert sorted(key for cell in cells for key in cell.keys) == list(range(len(visits)))


def test_a_new_patient_starts_with_an_assessment() -> None:
    assert rules.first_visit_kind(has_signed_plan=False) == "assessment"
    assert rules.first_visit_kind(has_signed_plan=True) == "infusion"
