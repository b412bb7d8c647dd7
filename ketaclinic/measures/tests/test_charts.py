"""The outcome graph's geometry (pure): dates in the clinic's zone, band labels clear of the lines,
infusion markers drawn."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from ketaclinic.measures.charts import MARKER_SIZE, build_chart

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
BANDS = [("Minimal", Decimal(0)), ("Mild", Decimal(5)), ("Moderate", Decimal(10)), ("Severe", Decimal(20))]


def _chart(zone: dt.tzinfo = NEW_YORK, infusions: list[dt.datetime] | None = None):  # type: ignore[no-untyped-def]
    # 02:30 UTC on 3 March is still 2 March in New York (21:30): the clinic's date is the 2nd.
    points = [
        (dt.datetime(2026, 3, 3, 2, 30, tzinfo=UTC), Decimal(22), False),
        (dt.datetime(2026, 3, 10, 4, 0, tzinfo=UTC), Decimal(9), True),
    ]
    return build_chart(
        points=points,
        bands=BANDS,
        min_total=Decimal(0),
        max_total=Decimal(27),
        baseline=Decimal(22),
        response_threshold=Decimal(11),
        infusion_dates=infusions or [],
        zone=zone,
    )


def test_ticks_and_dots_show_the_clinics_date_near_midnight_utc() -> None:
    chart = _chart()
    assert [tick.label for tick in chart.x_ticks] == ["Mar 02", "Mar 10"]
    assert [dot.label for dot in chart.dots] == ["2026-03-02: 22", "2026-03-10: 9"]


def test_the_same_moments_in_utc_show_the_utc_dates() -> None:
    chart = _chart(zone=UTC)
    assert [tick.label for tick in chart.x_ticks] == ["Mar 03", "Mar 10"]


def test_band_labels_sit_right_of_the_plot_where_no_line_reaches() -> None:
    chart = _chart()
    assert [band.label for band in chart.bands] == ["Minimal", "Mild", "Moderate", "Severe"]
    assert {band.label_x for band in chart.bands} == {chart.plot_right + 8}
    # Every line (series, baseline, response, infusions) ends at the plot's right edge or before it.
    assert max(dot.x for dot in chart.dots) <= chart.plot_right
    assert chart.plot_width == chart.plot_right - chart.plot_left == 536
    # Each label is vertically inside its own band.
    for band in chart.bands:
        assert band.y <= band.label_y <= band.y + band.height + 4


def test_infusion_markers_are_drawn_above_the_plot() -> None:
    infusion = dt.datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
    chart = _chart(infusions=[infusion])
    (x,) = chart.infusion_xs
    (marker,) = chart.infusion_markers
    corners = [tuple(float(n) for n in corner.split(",")) for corner in marker.split()]
    assert corners == [
        (x - MARKER_SIZE, chart.plot_top - MARKER_SIZE - 2),
        (x + MARKER_SIZE, chart.plot_top - MARKER_SIZE - 2),
        (x, chart.plot_top - 1),
    ]
    assert chart.plot_left < x < chart.plot_right
