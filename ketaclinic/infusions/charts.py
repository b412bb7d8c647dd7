"""Geometry of the chair's concentration chart (server-rendered SVG): the curve so far as a solid line, the
curve ahead dashed, a line at "now" and at the end of the infusion. Pure: the template only places it."""

from dataclasses import dataclass

from ketaclinic.dosing.charts import Tick, nice_top
from ketaclinic.infusions.prediction import VisitCurve

WIDTH = 560
HEIGHT = 220
LEFT = 52
RIGHT = 16
TOP = 14
BOTTOM = 40
X_TICK_EVERY_MIN = 20
Y_TICKS = 4


@dataclass(frozen=True)
class ProgressChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    past_points: str
    ahead_points: str
    now_x: float
    end_x: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    description: str


def progress_chart(curve: VisitCurve) -> ProgressChart:
    """Coordinates for the visit's concentration curve."""
    x_max = curve.times_min[-1] if curve.times_min else 1.0
    y_top = nice_top(max(curve.concentrations_ng_per_ml, default=0.0) * 1.1)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height

    def x_of(minutes: float) -> float:
        return round(LEFT + plot_width * minutes / x_max, 1)

    def y_of(value: float) -> float:
        return round(bottom - plot_height * min(value, y_top) / y_top, 1)

    pairs = list(zip(curve.times_min, curve.concentrations_ng_per_ml, strict=True))
    past = [(t, c) for t, c in pairs if t <= curve.now_min] + [(curve.now_min, curve.now_ng_per_ml)]
    ahead = [(curve.now_min, curve.now_ng_per_ml)] + [(t, c) for t, c in pairs if t > curve.now_min]
    return ProgressChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=bottom,
        past_points=" ".join(f"{x_of(t)},{y_of(c)}" for t, c in past),
        ahead_points=" ".join(f"{x_of(t)},{y_of(c)}" for t, c in ahead),
        now_x=x_of(curve.now_min),
        end_x=x_of(curve.end_min),
        x_ticks=[Tick(x_of(m), str(m)) for m in range(0, int(x_max) + 1, X_TICK_EVERY_MIN)],
        y_ticks=[Tick(y_of(y_top * i / Y_TICKS), f"{y_top * i / Y_TICKS:g}") for i in range(Y_TICKS + 1)],
        description=(
            f"Predicted plasma concentration ({curve.model_name}): {curve.now_ng_per_ml:.0f} ng/mL now, "
            f"peak {curve.peak_ng_per_ml:.0f} ng/mL at {curve.peak_at_min:.0f} min; the infusion ends at "
            f"{curve.end_min:.0f} min."
        ),
    )
