"""Pure plan rules: bounds, the series log, phase, next due, deviations, stability. No database."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.plans import rules
from ketaclinic.plans.rules import AfterSeries, Appointment, DeviationCode, Event, Phase, SeriesEventKind

BOUNDS = rules.Bounds(
    infusion_count_min=6,
    infusion_count_max=10,
    infusions_per_week_min=2,
    infusions_per_week_max=3,
    maintenance_interval_min_days=14,
    maintenance_interval_max_days=28,
    dose_range_min_mg_per_kg=Decimal("0.1"),
    dose_range_max_mg_per_kg=Decimal("0.75"),
    dose_hard_stop_mg_per_kg=Decimal("1.0"),
    sublingual_every_days_min=2,
    sublingual_every_days_max=3,
)
DAY = dt.date(2026, 3, 2)


def values(**overrides: object) -> rules.Values:
    data: dict[str, object] = {
        "induction_infusion_count": 6,
        "induction_span_days": 21,
        "infusions_per_week_max": 3,
        "min_days_between_infusions": 2,
        "start_dose_mg_per_kg": Decimal("0.5"),
        "after_series": AfterSeries.MAINTENANCE,
        "maintenance_interval_days": 21,
        "sublingual_dose_mg": None,
        "sublingual_every_days": None,
    }
    data.update(overrides)
    return rules.Values(**data)  # type: ignore[arg-type]


def test_the_protocol_defaults_have_no_problems() -> None:
    assert rules.check_values(values(), BOUNDS) == []


@given(st.integers(min_value=0, max_value=30))
def test_infusion_count_outside_the_range_is_refused_not_overridable(count: int) -> None:
    problems = rules.check_values(values(induction_infusion_count=count, induction_span_days=60), BOUNDS)
    fields = {problem.field: problem.overridable for problem in problems}
    if 6 <= count <= 10:
        assert "induction_infusion_count" not in fields
    else:
        assert fields["induction_infusion_count"] is False


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("2"), places=3))
def test_dose_range_is_a_hard_stop_and_the_ceiling_refused(dose: Decimal) -> None:
    problems = [p for p in rules.check_values(values(start_dose_mg_per_kg=dose), BOUNDS)]
    if Decimal("0.1") <= dose <= Decimal("0.75"):
        assert problems == []
    elif dose >= Decimal("1.0"):
        assert [(p.field, p.overridable) for p in problems] == [("start_dose_mg_per_kg", False)]
    else:
        assert [(p.field, p.overridable) for p in problems] == [("start_dose_mg_per_kg", True)]


@given(
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=1, max_value=5),
)
def test_series_fits_exactly_when_the_spacing_allows(count: int, span: int, gap: int) -> None:
    assert rules.series_fits(count, span, gap) == ((count - 1) * gap <= span)


def test_a_series_that_cannot_fit_its_window_is_refused() -> None:
    problems = rules.check_values(values(induction_infusion_count=10, induction_span_days=14), BOUNDS)
    assert [(p.field, p.message) for p in problems] == [
        ("induction_span_days", "10 infusions at least 2 day(s) apart do not fit in 14 days.")
    ]


def test_maintenance_and_sublingual_need_their_values() -> None:
    problems = rules.check_values(values(maintenance_interval_days=35), BOUNDS)
    assert [p.field for p in problems] == ["maintenance_interval_days"]
    problems = rules.check_values(
        values(after_series=AfterSeries.SUBLINGUAL, maintenance_interval_days=None), BOUNDS
    )
    assert [p.field for p in problems] == ["sublingual_dose_mg", "sublingual_every_days"]
    ok = values(after_series=AfterSeries.SUBLINGUAL, sublingual_dose_mg=Decimal(10), sublingual_every_days=3)
    assert rules.check_values(ok, BOUNDS) == []


def test_the_latest_event_is_an_appointments_state_keeping_its_date() -> None:
    events = [
        Event(1, SeriesEventKind.BOOKED, DAY),
        Event(2, SeriesEventKind.BOOKED, DAY + dt.timedelta(days=2)),
        Event(1, SeriesEventKind.ATTENDED, None),
        Event(2, SeriesEventKind.CANCELLED, None, "Flu"),
    ]
    assert rules.appointments(events) == [
        Appointment(1, SeriesEventKind.ATTENDED, DAY, ""),
        Appointment(2, SeriesEventKind.CANCELLED, DAY + dt.timedelta(days=2), "Flu"),
    ]


kinds = st.sampled_from(list(SeriesEventKind))


@given(st.lists(st.tuples(st.integers(min_value=1, max_value=8), kinds), max_size=40))
def test_progress_counts_each_appointment_once(log: list[tuple[int, SeriesEventKind]]) -> None:
    events = [Event(appointment, kind, DAY) for appointment, kind in log]
    items = rules.appointments(events)
    done = rules.progress(items, 6)
    assert done.attended + done.booked + done.cancelled + done.no_show == len({a for a, _ in log})
    assert done.booked_or_attended == done.attended + done.booked
    assert done.series_complete == (done.attended >= 6)


def test_progress_label() -> None:
    assert rules.Progress(6, 0, 2, 0, 0).label == "No infusion attended yet (series of 6)"
    assert rules.Progress(6, 3, 1, 1, 0).label == "Infusion 3 of 6 attended"
    assert rules.Progress(6, 8, 0, 0, 0).label == (
        "Induction series complete: 6 of 6, 2 maintenance infusion(s) since"
    )


@given(
    st.sampled_from([p.value for p in Phase if p != Phase.ENDED]),
    st.booleans(),
    st.booleans(),
    st.sampled_from(list(AfterSeries)),
)
def test_phase(version_phase: str, ended: bool, complete: bool, after: AfterSeries) -> None:
    phase = rules.current_phase(
        version_phase=version_phase, ended=ended, series_complete=complete, after_series=after
    )
    if ended:
        assert phase == Phase.ENDED
    elif version_phase != Phase.INDUCTION:
        assert phase == Phase(version_phase)
    elif not complete:
        assert phase == Phase.INDUCTION
    else:
        assert (
            phase
            == {
                AfterSeries.MAINTENANCE: Phase.MAINTENANCE,
                AfterSeries.SUBLINGUAL: Phase.SUBLINGUAL,
                AfterSeries.END: Phase.ENDED,
            }[after]
        )


def _due(phase: Phase, attended: list[dt.date]) -> rules.NextDue | None:
    return rules.next_due(
        phase=phase,
        attended=attended,
        infusion_count=6,
        span_days=21,
        min_days_between=2,
        maintenance_interval_days=21,
        sublingual_follow_up_days=28,
        phase_started_on=DAY,
    )


@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=5, unique=True))
def test_next_induction_infusion_respects_spacing_and_window(offsets: list[int]) -> None:
    attended = [DAY + dt.timedelta(days=offset) for offset in offsets]
    due = _due(Phase.INDUCTION, attended)
    assert due is not None
    assert due.what == f"Induction infusion {len(offsets) + 1} of 6"
    assert due.earliest == max(attended) + dt.timedelta(days=2)
    assert due.latest == min(attended) + dt.timedelta(days=21)


def test_next_due_before_any_infusion_is_to_be_booked() -> None:
    assert _due(Phase.INDUCTION, []) == rules.NextDue("Induction infusion 1 of 6", None, None)


def test_next_maintenance_from_the_last_attended_infusion() -> None:
    last = DAY + dt.timedelta(days=12)
    assert _due(Phase.MAINTENANCE, [DAY, last]) == rules.NextDue(
        "Maintenance infusion", last + dt.timedelta(days=21), last + dt.timedelta(days=21)
    )
    follow_up = DAY + dt.timedelta(days=28)
    assert _due(Phase.SUBLINGUAL, []) == rules.NextDue(
        "Sublingual ketamine follow-up visit", follow_up, follow_up
    )


def test_deviations_missed_stretched_and_not_booked() -> None:
    items = [
        Appointment(1, SeriesEventKind.ATTENDED, DAY, ""),
        Appointment(2, SeriesEventKind.NO_SHOW, DAY + dt.timedelta(days=2), "Overslept"),
        Appointment(3, SeriesEventKind.CANCELLED, DAY + dt.timedelta(days=4), ""),
    ]
    found = rules.deviations(
        phase=Phase.INDUCTION,
        items=items,
        infusion_count=6,
        span_days=21,
        due=None,
        today=DAY + dt.timedelta(days=22),
    )
    assert found == [
        rules.Deviation(DeviationCode.MISSED, "Missed infusion on 2026-03-04 (did not attend): Overslept."),
        rules.Deviation(DeviationCode.MISSED, "Cancelled infusion on 2026-03-06."),
        rules.Deviation(
            DeviationCode.STRETCHED,
            "The series is stretched past its window: 1 of 6 infusions by 2026-03-23 "
            "(21 days after the first).",
        ),
        rules.Deviation(
            DeviationCode.NOT_BOOKED, "No infusion is booked and the series is incomplete (1 of 6)."
        ),
    ]


def test_a_booking_past_the_window_is_a_deviation_before_the_window_ends() -> None:
    items = [
        Appointment(1, SeriesEventKind.ATTENDED, DAY, ""),
        Appointment(2, SeriesEventKind.BOOKED, DAY + dt.timedelta(days=25), ""),
    ]
    found = rules.deviations(
        phase=Phase.INDUCTION,
        items=items,
        infusion_count=6,
        span_days=21,
        due=None,
        today=DAY + dt.timedelta(days=1),
    )
    assert [item.code for item in found] == [DeviationCode.STRETCHED]


def test_maintenance_overdue_only_without_a_booking() -> None:
    due = rules.NextDue("Maintenance infusion", DAY, DAY)
    late = DAY + dt.timedelta(days=1)
    found = rules.deviations(
        phase=Phase.MAINTENANCE, items=[], infusion_count=6, span_days=21, due=due, today=late
    )
    assert found == [rules.Deviation(DeviationCode.OVERDUE, "Maintenance infusion overdue since 2026-03-02.")]
    booked = [Appointment(9, SeriesEventKind.BOOKED, late, "")]
    assert (
        rules.deviations(
            phase=Phase.MAINTENANCE, items=booked, infusion_count=6, span_days=21, due=due, today=late
        )
        == []
    )


def test_parse_scales_and_keys() -> None:
    assert rules.parse_scales("PHQ9, gad7 ,phq9;madrs") == ["phq9", "gad7", "madrs"]
    assert rules.is_instrument_key("phq9")
    assert not rules.is_instrument_key("9phq")
    assert not rules.is_instrument_key("phq-9")


def test_stability_is_met_after_a_sustained_run_of_responses() -> None:
    week = dt.timedelta(weeks=1)
    results = [(DAY, False), (DAY + week, True), (DAY + 3 * week, True), (DAY + 5 * week, True)]
    assert rules.stable_since(results, 4) == DAY + 5 * week
    assert rules.stable_since(results, 5) is None
    assert rules.stable_since([*results, (DAY + 6 * week, False)], 4) is None
    assert rules.stable_since([], 4) is None


@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=200), st.booleans()), max_size=20),
    st.integers(1, 12),
)
def test_stability_date_is_never_after_the_latest_result(raw: list[tuple[int, bool]], weeks: int) -> None:
    results = [(DAY + dt.timedelta(days=offset), responded) for offset, responded in raw]
    met = rules.stable_since(results, weeks)
    if met is not None:
        assert met <= max(on for on, _ in results)
        assert met >= min(on for on, _ in results) + dt.timedelta(weeks=weeks)
