"""Geometry of the predicted-concentration chart, drawn by the order page as server-rendered SVG.

Pure: it turns a curve into coordinates, tick positions and labels; the template only places them.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 720
HEIGHT = 320
LEFT = 64
RIGHT = 24
TOP = 16
BOTTOM = 56
X_TICK_EVERY_MIN = 30
Y_TICKS = 5
# A label's text box around its baseline y (13 px type): from y - ASCENT to y + DESCENT, and the gap kept
# between that box and the ceiling line.
ASCENT = 11
DESCENT = 3
LABEL_GAP = 3


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class CurveChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    points: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    band_width: int
    band_height: float
    ceiling_y: float
    ceiling_label: str
    ceiling_label_y: float
    end_of_infusion_x: float
    end_of_infusion_label: str
    end_of_infusion_label_x: float
    end_of_infusion_label_y: float
    peak_x: float
    peak_y: float
    peak_label: str
    peak_label_x: float
    peak_label_y: float
    y_tick_label_x: int
    x_tick_label_y: int
    x_label_y: int
    x_label_x: float
    y_label_y: float
    description: str


def nice_top(value: float) -> float:
    """The smallest 'round' axis top (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) at or above
    `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if factor * power >= value:
            return float(factor * power)
    return float(10 * power)


def _label(value: float) -> str:
    return f"{value:g}"


def peak_label_y(*, peak_y: float, ceiling_y: float, top: float, bottom: float) -> float:
    """The baseline y of the peak's label: near the peak, on the same side of the ceiling line as the peak
    and never touching the line, so a peak below the ceiling never reads as above it (and vice versa).
    Screen y grows downwards: a peak under the ceiling has peak_y > ceiling_y."""
    above = peak_y < ceiling_y
    wanted = peak_y - 10
    if above:
        highest = top + ASCENT
        lowest = ceiling_y - DESCENT - LABEL_GAP
        return round(min(max(wanted, highest), lowest), 1)
    highest = ceiling_y + ASCENT + LABEL_GAP
    lowest = bottom - DESCENT
    return round(min(max(wanted, highest), lowest), 1)


def curve_chart(
    *,
    times_min: Sequence[float],
    concentrations_ng_per_ml: Sequence[float],
    ceiling_ng_per_ml: Decimal,
    end_of_infusion_min: float,
    peak_ng_per_ml: Decimal,
    peak_at_min: Decimal,
) -> CurveChart:
    """Coordinates for a concentration curve with its ceiling band, end-of-infusion line and peak."""
    x_max = max(times_min) if times_min else 1.0
    y_top = nice_top(max([*concentrations_ng_per_ml, float(ceiling_ng_per_ml)]) * 1.1)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height

    def x_of(minutes: float) -> float:
        return round(LEFT + plot_width * minutes / x_max, 1)

    def y_of(concentration: float) -> float:
        return round(bottom - plot_height * min(concentration, y_top) / y_top, 1)

    points = " ".join(
        f"{x_of(t)},{y_of(c)}" for t, c in zip(times_min, concentrations_ng_per_ml, strict=True)
    )
    x_ticks = [Tick(x_of(minute), str(minute)) for minute in range(0, int(x_max) + 1, X_TICK_EVERY_MIN)]
    y_ticks = [Tick(y_of(y_top * i / Y_TICKS), _label(y_top * i / Y_TICKS)) for i in range(Y_TICKS + 1)]
    ceiling_y = y_of(float(ceiling_ng_per_ml))
    end_x = x_of(end_of_infusion_min)
    peak_x, peak_y = x_of(float(peak_at_min)), y_of(float(peak_ng_per_ml))
    return CurveChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=bottom,
        points=points,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        band_width=plot_width,
        band_height=round(ceiling_y - TOP, 1),
        ceiling_y=ceiling_y,
        ceiling_label=f"above the ceiling of {_label(float(ceiling_ng_per_ml))} ng/mL",
        ceiling_label_y=round(ceiling_y - 6, 1),
        end_of_infusion_x=end_x,
        end_of_infusion_label=f"end of infusion ({_label(end_of_infusion_min)} min)",
        end_of_infusion_label_x=round(end_x + 6, 1),
        end_of_infusion_label_y=bottom - 8,
        peak_x=peak_x,
        peak_y=peak_y,
        peak_label=f"peak {peak_ng_per_ml} ng/mL",
        peak_label_x=round(peak_x + 10, 1),
        peak_label_y=peak_label_y(peak_y=peak_y, ceiling_y=ceiling_y, top=TOP, bottom=bottom),
        y_tick_label_x=LEFT - 8,
        x_tick_label_y=bottom + 20,
        x_label_y=HEIGHT - 8,
        x_label_x=LEFT + plot_width / 2,
        y_label_y=TOP + plot_height / 2,
        description=(
            f"Predicted plasma concentration rising to a peak of {peak_ng_per_ml} ng/mL at "
            f"{peak_at_min} min, the end of the infusion at {_label(end_of_infusion_min)} min, then falling; "
            f"the protocol's ceiling is {_label(float(ceiling_ng_per_ml))} ng/mL."
        ),
    )
