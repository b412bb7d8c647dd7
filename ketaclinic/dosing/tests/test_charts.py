"""The dose order's concentration chart: the peak's label is never on the ceiling line (pure geometry)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.dosing.charts import ASCENT, DESCENT, curve_chart, peak_label_y


def _chart(peak: float, ceiling: str) -> tuple[float, float, float]:
    times = [0.0, 20.0, 40.0, 120.0, 240.0]
    concentrations = [0.0, peak * 0.7, peak, peak * 0.4, peak * 0.1]
    chart = curve_chart(
        times_min=times,
        concentrations_ng_per_ml=concentrations,
        ceiling_ng_per_ml=Decimal(ceiling),
        end_of_infusion_min=40.0,
        peak_ng_per_ml=Decimal(str(peak)),
        peak_at_min=Decimal(40),
    )
    return chart.peak_y, chart.ceiling_y, chart.peak_label_y


def test_a_peak_just_under_the_ceiling_is_labelled_under_the_line() -> None:
    peak_y, ceiling_y, label_y = _chart(480.0, "500")
    assert peak_y > ceiling_y  # the peak is drawn under the line (screen y grows downwards)
    # The text's top (baseline - ascent) is below the line with a gap.
    assert label_y - ASCENT > ceiling_y
    assert (peak_y, ceiling_y, label_y) == (65.6, 57.3, 71.3)


def test_a_peak_just_over_the_ceiling_is_labelled_over_the_line() -> None:
    peak_y, ceiling_y, label_y = _chart(520.0, "500")
    assert peak_y < ceiling_y
    assert label_y + DESCENT < ceiling_y


def test_a_peak_far_below_the_ceiling_keeps_its_label_just_above_the_dot() -> None:
    peak_y, _, label_y = _chart(200.0, "500")
    assert label_y == round(peak_y - 10, 1)


@given(
    peak_y=st.floats(min_value=16, max_value=264, allow_nan=False),
    ceiling_y=st.floats(min_value=40, max_value=240, allow_nan=False),
)
def test_the_label_is_on_the_peaks_side_of_the_line_and_inside_the_plot(
    peak_y: float, ceiling_y: float
) -> None:
    label_y = peak_label_y(peak_y=peak_y, ceiling_y=ceiling_y, top=16, bottom=264)
    if peak_y < ceiling_y:
        assert label_y + DESCENT < ceiling_y
        assert label_y - ASCENT >= 16 - 0.05
    else:
        assert label_y - ASCENT > ceiling_y
        assert label_y + DESCENT <= 264 + 0.05
