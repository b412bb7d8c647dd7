"""Hypothesis strategies for infusion histories that could have happened."""

from hypothesis import strategies as st

from pharmacokinetics import MODELS, EventKind, InfusionEvent, ScaledModel

rates_mg_per_min = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)
bolus_amounts_mg = st.floats(min_value=0.0, max_value=30.0, allow_nan=False)
gaps_min = st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=45.0, allow_nan=False))


@st.composite
def regimens(draw: st.DrawFn, *, max_events: int = 8) -> list[InfusionEvent]:
    """START, then rate changes, pauses, resumes and boluses in an order that can happen, maybe a STOP."""
    at = draw(st.floats(min_value=0.0, max_value=15.0, allow_nan=False))
    events = [InfusionEvent(at_min=at, kind=EventKind.START, rate_mg_per_min=draw(rates_mg_per_min))]
    paused = False
    for _ in range(draw(st.integers(min_value=0, max_value=max_events))):
        at += draw(gaps_min)
        choices = (
            [EventKind.BOLUS, EventKind.RESUME]
            if paused
            else [
                EventKind.BOLUS,
                EventKind.RATE_CHANGE,
                EventKind.PAUSE,
            ]
        )
        kind = draw(st.sampled_from(choices))
        if kind is EventKind.BOLUS:
            events.append(InfusionEvent(at_min=at, kind=kind, amount_mg=draw(bolus_amounts_mg)))
        elif kind is EventKind.RATE_CHANGE:
            events.append(InfusionEvent(at_min=at, kind=kind, rate_mg_per_min=draw(rates_mg_per_min)))
        else:
            events.append(InfusionEvent(at_min=at, kind=kind))
            paused = kind is EventKind.PAUSE
    if draw(st.booleans()):
        events.append(InfusionEvent(at_min=at + draw(gaps_min), kind=EventKind.STOP))
    return events


@st.composite
def patients(draw: st.DrawFn, *, keys: tuple[str, ...] = tuple(MODELS)) -> ScaledModel:
    model = MODELS[draw(st.sampled_from(keys))]
    weight_kg = draw(st.floats(min_value=5.0, max_value=180.0, allow_nan=False))
    return model.scaled(weight_kg)
