"""Geometry of the server-rendered outcome graphs (SVG drawn by a template). Pure: no Django here.

One graph per instrument: score (y, higher is worse) over time (x), band shading, the baseline and the
response threshold as horizontal lines, infusion dates as vertical markers when there are any.

Every date shown (tick, dot) is the date in the clinic's zone, as on the rest of the page. The band labels
sit in a gutter right of the plot, where no line or dot can cross them.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 720
HEIGHT = 260
LEFT = 56
# The gutter right of the plot holds the band labels (lines end at the plot's right edge).
RIGHT = 128
BAND_LABEL_GAP = 8
# The infusion markers: a triangle above the plot, so a marker shows even where a line crosses it.
MARKER_SIZE = 6
TOP = 20
BOTTOM = 44
SHADES = ("band-0", "band-1", "band-2", "band-3", "band-4")


@dataclass(frozen=True)
class BandRect:
    label: str
    y: float
    height: float
    css_class: str
    label_y: float
    label_x: float


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    responded: bool


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    plot_width: int
    bands: tuple[BandRect, ...]
    points: str
    dots: tuple[Dot, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    baseline_y: float | None
    response_y: float | None
    infusion_xs: tuple[float, ...]
    infusion_markers: tuple[str, ...]


def build_chart(
    *,
    points: Sequence[tuple[dt.datetime, Decimal, bool]],
    bands: Sequence[tuple[str, Decimal]],
    min_total: Decimal,
    max_total: Decimal,
    baseline: Decimal | None,
    response_threshold: Decimal | None,
    infusion_dates: Sequence[dt.datetime],
    zone: dt.tzinfo,
) -> Chart:
    """The graph of `points` (time, total, responded) on a y axis from min_total to max_total.

        `bands` are (label, from) lowest first; `response_threshold` is the total at or below which a score
        counts as a response. Times map linearly onto the width; a single point sits in the middle. Dates are
    labelled in `zone` (the clinic's), whatever zone the datetimes carry."""
    plot_right = WIDTH - RIGHT
    plot_bottom = HEIGHT - BOTTOM
    span = float(max_total - min_total) or 1.0

    def y_of(value: Decimal) -> float:
        return round(plot_bottom - (float(value - min_total) / span) * (plot_bottom - TOP), 1)

    times = [moment for moment, _, _ in points] + list(infusion_dates)
    first, last = (min(times), max(times)) if times else (None, None)
    width_seconds = (last - first).total_seconds() if first and last else 0.0

    def x_of(moment: dt.datetime) -> float:
        if first is None or width_seconds == 0:
            return round((LEFT + plot_right) / 2, 1)
        return round(LEFT + (moment - first).total_seconds() / width_seconds * (plot_right - LEFT), 1)

    band_rects = []
    for index, (label, start) in enumerate(bands):
        end = bands[index + 1][1] if index + 1 < len(bands) else max_total
        top_y = y_of(end) if index + 1 < len(bands) else TOP
        bottom_y = y_of(max(start, min_total))
        band_rects.append(
            BandRect(
                label=label,
                y=top_y,
                height=round(bottom_y - top_y, 1),
                css_class=SHADES[index % len(SHADES)],
                label_y=round((top_y + bottom_y) / 2 + 4, 1),
                label_x=plot_right + BAND_LABEL_GAP,
            )
        )

    def day(moment: dt.datetime, pattern: str) -> str:
        return moment.astimezone(zone).strftime(pattern)

    dots = tuple(
        Dot(
            x=x_of(moment),
            y=y_of(total),
            label=f"{day(moment, '%Y-%m-%d')}: {total}",
            responded=responded,
        )
        for moment, total, responded in points
    )
    step = max(1, int(span) // 5)
    y_ticks = tuple(
        Tick(position=y_of(Decimal(value)), label=str(value))
        for value in range(int(min_total), int(max_total) + 1, step)
    )
    x_ticks: tuple[Tick, ...] = ()
    if points:
        moments = sorted({moment for moment, _, _ in points})
        chosen = moments if len(moments) <= 6 else [moments[i * (len(moments) - 1) // 5] for i in range(6)]
        x_ticks = tuple(Tick(position=x_of(moment), label=day(moment, "%b %d")) for moment in chosen)
    infusion_xs = tuple(x_of(moment) for moment in infusion_dates)
    marker_top = TOP - MARKER_SIZE - 2
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=plot_right,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        plot_width=plot_right - LEFT,
        bands=tuple(band_rects),
        points=" ".join(f"{dot.x},{dot.y}" for dot in dots),
        dots=dots,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        baseline_y=y_of(baseline) if baseline is not None else None,
        response_y=y_of(response_threshold) if response_threshold is not None else None,
        infusion_xs=infusion_xs,
        infusion_markers=tuple(
            f"{x - MARKER_SIZE},{marker_top} {x + MARKER_SIZE},{marker_top} {x},{TOP - 1}"
            for x in infusion_xs
        ),
    )
