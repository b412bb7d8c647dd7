"""Side effects, adverse-event grades and rescue doses (pure rules, no database)."""

from decimal import Decimal as D

import pytest

from ketaclinic.infusions.errors import InfusionRuleError
from ketaclinic.infusions.rules import (
    ADVERSE_EVENT_GRADE_LABELS,
    CONTROLLED_RESCUE_DRUGS,
    RESCUE_DRUG_NAMES,
    SIDE_EFFECT_LABELS,
    AdverseEventGrade,
    DoseFinding,
    DoseFindingCode,
    DrugRoute,
    RescueDrug,
    RescueDrugLimits,
    SideEffectKind,
    check_rescue_dose,
    is_serious,
    parse_routes,
)
from ketaclinic.protocols.services import read_protocol_defaults

LABETALOL = RescueDrugLimits(
    drug=RescueDrug.LABETALOL,
    routes=frozenset({DrugRoute.IV}),
    usual_dose_min_mg=D(5),
    usual_dose_max_mg=D(20),
    controlled=False,
)
HYDRALAZINE = RescueDrugLimits(
    drug=RescueDrug.HYDRALAZINE,
    routes=frozenset({DrugRoute.IV, DrugRoute.PO}),
    usual_dose_min_mg=D(10),
    usual_dose_max_mg=D(10),
    controlled=False,
    dose_by_route_mg={DrugRoute.PO: (D(25), D(25))},
)


def test_every_kind_drug_and_grade_has_a_label() -> None:
    assert set(SIDE_EFFECT_LABELS) == set(SideEffectKind)
    assert set(RESCUE_DRUG_NAMES) == set(RescueDrug)
    assert set(ADVERSE_EVENT_GRADE_LABELS) == set(AdverseEventGrade)
    assert SideEffectKind.EMERGENCE_REACTION.value == "emergence_reaction"
    assert [int(grade) for grade in AdverseEventGrade] == [1, 2, 3, 4, 5]


def test_serious_from_the_protocols_grade_inclusive() -> None:
    assert [is_serious(grade, serious_from_grade=3) for grade in AdverseEventGrade] == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert is_serious(AdverseEventGrade.MILD, serious_from_grade=1) is True


def test_serious_from_grade_must_be_a_ctcae_grade() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        is_serious(AdverseEventGrade.SEVERE, serious_from_grade=6)
    assert caught.value.field == "serious_from_grade"


def test_a_usual_dose_by_an_allowed_route_has_no_findings() -> None:
    assert check_rescue_dose(LABETALOL, dose_mg=D(5), route=DrugRoute.IV) == []
    assert check_rescue_dose(LABETALOL, dose_mg=D(20), route=DrugRoute.IV) == []


def test_above_the_usual_maximum_is_a_hard_stop() -> None:
    assert check_rescue_dose(LABETALOL, dose_mg=D("20.5"), route=DrugRoute.IV) == [
        DoseFinding(
            DoseFindingCode.ABOVE_USUAL_MAXIMUM,
            "20.5 mg of Labetalol is above the protocol's usual dose of 5-20 mg.",
            is_hard_stop=True,
        )
    ]


def test_below_the_usual_minimum_is_a_warning() -> None:
    assert check_rescue_dose(LABETALOL, dose_mg=D("2.5"), route=DrugRoute.IV) == [
        DoseFinding(
            DoseFindingCode.BELOW_USUAL_MINIMUM,
            "2.5 mg of Labetalol is below the protocol's usual dose of 5-20 mg.",
            is_hard_stop=False,
        )
    ]


def test_a_route_the_protocol_does_not_list_is_a_hard_stop() -> None:
    assert check_rescue_dose(LABETALOL, dose_mg=D(10), route=DrugRoute.PO) == [
        DoseFinding(
            DoseFindingCode.ROUTE_NOT_ALLOWED,
            "Labetalol is given IV under the protocol, not by mouth (PO).",
            is_hard_stop=True,
        )
    ]


def test_route_specific_doses_apply_to_their_route() -> None:
    # Hydralazine 10 mg IV or 25 mg PO (PROTOCOL.md section 3): 25 mg is usual by mouth, too much IV.
    assert check_rescue_dose(HYDRALAZINE, dose_mg=D(25), route=DrugRoute.PO) == []
    assert check_rescue_dose(HYDRALAZINE, dose_mg=D(25), route=DrugRoute.IV) == [
        DoseFinding(
            DoseFindingCode.ABOVE_USUAL_MAXIMUM,
            "25 mg of Hydralazine is above the protocol's usual dose of 10 mg.",
            is_hard_stop=True,
        )
    ]
    assert [f.code for f in check_rescue_dose(HYDRALAZINE, dose_mg=D(10), route=DrugRoute.PO)] == [
        DoseFindingCode.BELOW_USUAL_MINIMUM
    ]


def test_a_dose_of_zero_or_less_is_refused() -> None:
    for dose in (D(0), D(-1), D("NaN")):
        with pytest.raises(InfusionRuleError) as caught:
            check_rescue_dose(LABETALOL, dose_mg=dose, route=DrugRoute.IV)
        assert (caught.value.code, caught.value.message, caught.value.field) == (
            "invalid_infusion_input",
            "The dose must be more than 0 mg.",
            "dose_mg",
        )


def test_an_unknown_route_is_refused() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        check_rescue_dose(LABETALOL, dose_mg=D(5), route="nasal")  # type: ignore[arg-type]
    assert caught.value.field == "route"


def test_limits_refuse_inconsistent_ranges() -> None:
    with pytest.raises(InfusionRuleError):
        RescueDrugLimits(
            RescueDrug.CLONIDINE, frozenset({DrugRoute.PO}), D("0.2"), D("0.1"), controlled=False
        )
    with pytest.raises(InfusionRuleError):
        RescueDrugLimits(RescueDrug.CLONIDINE, frozenset(), D("0.1"), D("0.1"), controlled=False)
    with pytest.raises(InfusionRuleError) as caught:
        RescueDrugLimits(
            RescueDrug.CLONIDINE,
            frozenset({DrugRoute.PO}),
            D("0.1"),
            D("0.1"),
            controlled=False,
            dose_by_route_mg={DrugRoute.IV: (D(1), D(2))},
        )
    assert caught.value.message == "Clonidine: a dose is given for a route the protocol does not allow (iv)."


def test_parse_routes() -> None:
    assert parse_routes("IV, odt") == frozenset({DrugRoute.IV, DrugRoute.ODT})
    with pytest.raises(InfusionRuleError):
        parse_routes("iv, rectal")
    with pytest.raises(InfusionRuleError):
        parse_routes(" , ")


def test_midazolam_is_the_controlled_rescue_drug() -> None:
    assert frozenset({RescueDrug.MIDAZOLAM}) == CONTROLLED_RESCUE_DRUGS


def test_shipped_protocol_gives_valid_limits_for_every_rescue_drug() -> None:
    shipped = {entry.key: entry.value for entry in read_protocol_defaults() if entry.population == "all"}
    limits = {
        drug: RescueDrugLimits(
            drug=drug,
            routes=parse_routes(shipped[f"rescue_{drug.value}_routes"]),
            usual_dose_min_mg=D(shipped[f"rescue_{drug.value}_dose_min_mg"]),
            usual_dose_max_mg=D(shipped[f"rescue_{drug.value}_dose_max_mg"]),
            controlled=drug in CONTROLLED_RESCUE_DRUGS,
        )
        for drug in RescueDrug
    }
    assert check_rescue_dose(limits[RescueDrug.ONDANSETRON], dose_mg=D(4), route=DrugRoute.ODT) == []
    assert check_rescue_dose(limits[RescueDrug.MIDAZOLAM], dose_mg=D(2), route=DrugRoute.IV) == []
    assert check_rescue_dose(limits[RescueDrug.CLONIDINE], dose_mg=D("0.1"), route=DrugRoute.PO) == []
    assert (shipped["rescue_hydralazine_po_dose_min_mg"], shipped["rescue_hydralazine_po_dose_max_mg"]) == (
        "25",
        "25",
    )
