"""The published models carry PROTOCOL.md §6's parameters and reproduce its derived columns."""

import math

import numpy as np
import pytest

from pharmacokinetics import MODELS, AllometricParameters, RateConstantParameters, ScaledModel
from pharmacokinetics.closed_form import _modes


def half_lives_min(scaled: ScaledModel) -> list[float]:
    """Half-lives of the sums of exponentials, shortest first."""
    lam = _modes([scaled], need_effect=False).lam[0]
    return sorted(math.log(2) / -x for x in lam)


def test_parameters_are_exactly_those_in_protocol_section_6() -> None:
    assert MODELS["domino"].parameters == RateConstantParameters(
        v1_l_per_kg=0.063,
        k10_per_min=0.4381,
        k12_per_min=0.5921,
        k21_per_min=0.2470,
        k13_per_min=0.5900,
        k31_per_min=0.0146,
        ke0_per_min=0.652,
    )
    assert MODELS["clements"].parameters == RateConstantParameters(
        v1_l_per_kg=1.7522, k10_per_min=0.0109, k12_per_min=0.0186, k21_per_min=0.0137
    )
    assert MODELS["hijazi"].parameters == RateConstantParameters(
        v1_l_per_kg=1.08, k10_per_min=0.0333, k12_per_min=0.0088, k21_per_min=0.0030
    )
    assert MODELS["herd"].parameters == AllometricParameters(
        v1_l_at_70_kg=38.7, v2_l_at_70_kg=102.0, cl_l_per_h_at_70_kg=90.0, q_l_per_h_at_70_kg=215.0
    )
    assert MODELS["hornik"].parameters == AllometricParameters(
        v1_l_at_70_kg=32.8, v2_l_at_70_kg=152.0, cl_l_per_h_at_70_kg=38.9, q_l_per_h_at_70_kg=54.9
    )


def test_each_model_names_its_source_and_population() -> None:
    pmids = {"domino": "7198883", "clements": "7459184", "hijazi": "12538370", "herd": "17564643"}
    pmids["hornik"] = "29677389"
    dois = {
        "clements": "10.1093/bja/53.1.27",
        "hijazi": "10.1093/bja/aeg028",
        "herd": "10.1111/j.1460-9592.2006.02145.x",
        "hornik": "10.1002/jcph.1116",
    }
    for key, model in MODELS.items():
        assert model.key == key
        assert f"PMID {pmids[key]}" in model.source
        assert "opentiva" in model.source
        if key in dois:
            assert f"doi:{dois[key]}" in model.source
        assert model.population
        assert model.sampling_site == "unspecified"


def test_fitted_ranges_are_those_the_protocol_states_and_none_elsewhere() -> None:
    ranges = {
        key: (m.min_age_years, m.max_age_years, m.min_weight_kg, m.max_weight_kg) for key, m in MODELS.items()
    }
    assert ranges == {
        "domino": (None, None, None, None),
        "clements": (None, None, None, None),
        "hijazi": (None, None, None, None),
        "herd": (1.0, 14.0, 10.8, 74.8),
        "hornik": (1.0, 18.0, 2.0, 176.0),
    }


def test_only_domino_has_an_effect_site() -> None:
    assert {k for k, m in MODELS.items() if m.has_effect_site} == {"domino"}
    assert MODELS["domino"].scaled(70.0).ke0_per_min == 0.652
    assert MODELS["herd"].scaled(70.0).ke0_per_min is None


def test_rate_constant_models_scale_only_the_central_volume_with_weight() -> None:
    light, heavy = MODELS["domino"].scaled(50.0), MODELS["domino"].scaled(100.0)
    assert (light.v1_l, heavy.v1_l) == (0.063 * 50.0, 0.063 * 100.0)
    assert (light.k10_per_min, light.k13_per_min, light.k31_per_min) == (0.4381, 0.5900, 0.0146)
    assert (heavy.k10_per_min, heavy.k12_per_min, heavy.k21_per_min) == (0.4381, 0.5921, 0.2470)
    assert light.compartments == 3
    assert MODELS["clements"].scaled(50.0).compartments == 2


def test_herd_clearances_and_volumes_become_rate_constants_per_minute() -> None:
    at_70 = MODELS["herd"].scaled(70.0)
    assert at_70.v1_l == 38.7
    assert at_70.k10_per_min == pytest.approx(90.0 / 60.0 / 38.7, rel=1e-15)
    assert at_70.k12_per_min == pytest.approx(215.0 / 60.0 / 38.7, rel=1e-15)
    assert at_70.k21_per_min == pytest.approx(215.0 / 60.0 / 102.0, rel=1e-15)
    child = MODELS["herd"].scaled(17.5)  # a quarter of 70 kg: volumes x 1/4, clearances x (1/4)^0.75
    assert child.v1_l == pytest.approx(38.7 / 4, rel=1e-15)
    assert child.k10_per_min == pytest.approx(90.0 / 60.0 * 0.25**0.75 / (38.7 / 4), rel=1e-14)
    assert child.k21_per_min == pytest.approx(215.0 / 60.0 * 0.25**0.75 / (102.0 / 4), rel=1e-14)


def test_hornik_scales_the_same_way() -> None:
    child = MODELS["hornik"].scaled(35.0)
    assert child.v1_l == pytest.approx(32.8 / 2, rel=1e-15)
    assert child.k10_per_min == pytest.approx(38.9 / 60.0 * 0.5**0.75 / (32.8 / 2), rel=1e-14)
    assert child.k12_per_min == pytest.approx(54.9 / 60.0 * 0.5**0.75 / (32.8 / 2), rel=1e-14)
    assert child.k21_per_min == pytest.approx(54.9 / 60.0 * 0.5**0.75 / (152.0 / 2), rel=1e-14)


def test_the_protocols_derived_columns_follow_from_the_parameters() -> None:
    """V2, V3, clearance and half-lives as PROTOCOL.md §6 tabulates them (rounded there)."""
    domino = MODELS["domino"].scaled(70.0)
    assert round(0.063 * domino.k12_per_min / domino.k21_per_min, 3) == 0.151  # V2 L/kg
    assert round(0.063 * domino.k13_per_min / domino.k31_per_min, 2) == 2.55  # V3 L/kg
    assert round(domino.v1_l * domino.k10_per_min, 2) == 1.93  # CL L/min at 70 kg
    assert [round(t, 1) for t in half_lives_min(domino)] == [0.4, 4.6, 114.6]  # "0.4 / 4.6 / 115"

    clements = MODELS["clements"].scaled(70.0)
    assert round(1.7522 * 0.0186 / 0.0137, 2) == 2.38
    assert round(clements.v1_l * clements.k10_per_min, 2) == 1.34
    assert [round(t, 1) for t in half_lives_min(clements)] == [17.6, 182.9]  # "17.6 min, 183 min"

    hijazi = MODELS["hijazi"].scaled(70.0)
    assert round(1.08 * 0.0088 / 0.0030, 2) == 3.17
    assert round(hijazi.v1_l * hijazi.k10_per_min, 2) == 2.52
    assert [round(t) for t in half_lives_min(hijazi)] == [16, 297]

    assert [round(t, 1) for t in half_lives_min(MODELS["herd"].scaled(70.0))] == [4.4, 80.4]  # "4.4 / 80"
    assert [round(t, 1) for t in half_lives_min(MODELS["hornik"].scaled(70.0))] == [13.5, 299.2]


def test_outside_fitted_range_explains_each_limit_crossed() -> None:
    herd = MODELS["herd"]
    assert herd.outside_fitted_range(weight_kg=40.0, age_years=10.0) == []
    assert herd.outside_fitted_range(weight_kg=80.0, age_years=16.0) == [
        "Herd (2-compartment, paediatric, allometric) was fitted on patients of 10.8 to 74.8 kg; "
        "this patient weighs 80 kg.",
        "Herd (2-compartment, paediatric, allometric) was fitted on patients aged 1 to 14 years; "
        "this patient is 16.",
    ]
    assert herd.outside_fitted_range(weight_kg=9.0, age_years=0.5) == [
        "Herd (2-compartment, paediatric, allometric) was fitted on patients of 10.8 to 74.8 kg; "
        "this patient weighs 9 kg.",
        "Herd (2-compartment, paediatric, allometric) was fitted on patients aged 1 to 14 years; "
        "this patient is 0.5.",
    ]
    assert MODELS["domino"].outside_fitted_range(weight_kg=300.0, age_years=90.0) == []


@pytest.mark.parametrize("weight_kg", [0.0, -70.0, math.nan, math.inf])
def test_scaling_refuses_a_weight_that_is_not_a_positive_number(weight_kg: float) -> None:
    with pytest.raises(ValueError, match=r"^weight_kg must be a positive finite number, not "):
        MODELS["domino"].scaled(weight_kg)


def test_a_scaled_model_refuses_rate_constants_that_make_no_model() -> None:
    domino = MODELS["domino"].scaled(70.0)
    with pytest.raises(ValueError, match=r"^k21_per_min must be a positive finite number, not 0.0\.$"):
        ScaledModel(
            model=domino.model, weight_kg=70.0, v1_l=1.0, k10_per_min=0.1, k12_per_min=0.1, k21_per_min=0.0
        )
    with pytest.raises(ValueError, match=r"^k31_per_min must be a positive finite number, not 0.0\.$"):
        ScaledModel(
            model=domino.model,
            weight_kg=70.0,
            v1_l=1.0,
            k10_per_min=0.1,
            k12_per_min=0.1,
            k21_per_min=0.1,
            k13_per_min=0.2,
        )
    with pytest.raises(ValueError, match=r"^ke0_per_min must be a positive finite number, not -1.0\.$"):
        ScaledModel(
            model=domino.model,
            weight_kg=70.0,
            v1_l=1.0,
            k10_per_min=0.1,
            k12_per_min=0.1,
            k21_per_min=0.1,
            ke0_per_min=-1.0,
        )


def test_the_eigenvalues_are_real_negative_and_reproduce_the_rate_matrix() -> None:
    for model in MODELS.values():
        scaled = model.scaled(63.0)
        modes = _modes([scaled], need_effect=False)
        lam, q, d = modes.lam[0], modes.q[0], modes.d[0]
        rebuilt = np.diag(d) @ q @ np.diag(lam) @ q.T @ np.diag(1 / d)
        k = scaled
        expected = np.array(
            [
                [-(k.k10_per_min + k.k12_per_min + k.k13_per_min), k.k21_per_min, k.k31_per_min],
                [k.k12_per_min, -k.k21_per_min, 0.0],
                [k.k13_per_min, 0.0, -k.k31_per_min],
            ]
        )[: k.compartments, : k.compartments]
        assert np.all(lam < 0)
        np.testing.assert_allclose(rebuilt, expected, rtol=0, atol=1e-14)
