"""Side effects, adverse-event grades and rescue medicines given during the visit.

Rescue doses and routes are protocol data (PROTOCOL.md section 3) passed in as `RescueDrugLimits`; the
grade definitions are those of CTCAE v5.0 (NCI, 2017), quoted from memory of its general grade
definitions (unverified).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum, StrEnum

from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.rules.vitals import show_number


class SideEffectKind(StrEnum):
    NAUSEA = "nausea"
    VOMITING = "vomiting"
    DIZZINESS = "dizziness"
    HYPERTENSION = "hypertension"
    TACHYCARDIA = "tachycardia"
    ANXIETY = "anxiety"
    EMERGENCE_REACTION = "emergence_reaction"
    DISSOCIATION = "dissociation"
    HEADACHE = "headache"
    SEDATION = "sedation"
    BLURRED_VISION = "blurred_vision"
    OTHER = "other"


SIDE_EFFECT_LABELS: Mapping[SideEffectKind, str] = {
    SideEffectKind.NAUSEA: "Nausea",
    SideEffectKind.VOMITING: "Vomiting",
    SideEffectKind.DIZZINESS: "Dizziness",
    SideEffectKind.HYPERTENSION: "Raised blood pressure",
    SideEffectKind.TACHYCARDIA: "Fast heart rate",
    SideEffectKind.ANXIETY: "Anxiety",
    SideEffectKind.EMERGENCE_REACTION: "Emergence reaction (agitation, distressing perceptions)",
    SideEffectKind.DISSOCIATION: "Dissociation or perceptual change",
    SideEffectKind.HEADACHE: "Headache",
    SideEffectKind.SEDATION: "Sedation",
    SideEffectKind.BLURRED_VISION: "Blurred vision",
    SideEffectKind.OTHER: "Other",
}


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


SEVERITY_LABELS: Mapping[Severity, str] = {
    Severity.MILD: "Mild",
    Severity.MODERATE: "Moderate",
    Severity.SEVERE: "Severe",
}


class AdverseEventGrade(IntEnum):
    """CTCAE v5.0 grades."""

    MILD = 1
    MODERATE = 2
    SEVERE = 3
    LIFE_THREATENING = 4
    DEATH = 5


ADVERSE_EVENT_GRADE_LABELS: Mapping[AdverseEventGrade, str] = {
    AdverseEventGrade.MILD: (
        "Grade 1, mild: no or mild symptoms; clinical or diagnostic observations only; no intervention needed"
    ),
    AdverseEventGrade.MODERATE: (
        "Grade 2, moderate: minimal, local or non-invasive intervention needed; limits instrumental "
        "activities of daily living"
    ),
    AdverseEventGrade.SEVERE: (
        "Grade 3, severe or medically significant but not immediately life-threatening: hospital admission "
        "or a longer stay needed; disabling; limits self-care"
    ),
    AdverseEventGrade.LIFE_THREATENING: "Grade 4, life-threatening consequences: urgent intervention needed",
    AdverseEventGrade.DEATH: "Grade 5, death related to the adverse event",
}


def is_serious(grade: AdverseEventGrade, *, serious_from_grade: int) -> bool:
    """True when `grade` is at or above the protocol's `serious_from_grade` (which must be a CTCAE grade,
    1-5; InfusionRuleError otherwise)."""
    if serious_from_grade not in AdverseEventGrade.__members__.values():
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"The protocol's serious-from grade must be a CTCAE grade from 1 to 5, not {serious_from_grade}.",
            field="serious_from_grade",
        )
    return AdverseEventGrade(grade) >= serious_from_grade


class RescueDrug(StrEnum):
    ONDANSETRON = "ondansetron"
    LABETALOL = "labetalol"
    CLONIDINE = "clonidine"
    HYDRALAZINE = "hydralazine"
    METOPROLOL = "metoprolol"
    MIDAZOLAM = "midazolam"


RESCUE_DRUG_NAMES: Mapping[RescueDrug, str] = {
    RescueDrug.ONDANSETRON: "Ondansetron",
    RescueDrug.LABETALOL: "Labetalol",
    RescueDrug.CLONIDINE: "Clonidine",
    RescueDrug.HYDRALAZINE: "Hydralazine",
    RescueDrug.METOPROLOL: "Metoprolol tartrate",
    RescueDrug.MIDAZOLAM: "Midazolam",
}

# A fact about the drug, not a clinic setting: midazolam is a schedule IV controlled substance (21 CFR
# 1308.14) and draws from the controlled-substance ledger.
CONTROLLED_RESCUE_DRUGS: frozenset[RescueDrug] = frozenset({RescueDrug.MIDAZOLAM})


class DrugRoute(StrEnum):
    IV = "iv"
    PO = "po"
    ODT = "odt"
    SL = "sl"
    IM = "im"


DRUG_ROUTE_LABELS: Mapping[DrugRoute, str] = {
    DrugRoute.IV: "IV",
    DrugRoute.PO: "by mouth (PO)",
    DrugRoute.ODT: "orally disintegrating tablet (ODT)",
    DrugRoute.SL: "sublingual (SL)",
    DrugRoute.IM: "IM",
}


def parse_routes(text: str) -> frozenset[DrugRoute]:
    """The routes of a protocol text list ("iv, odt"). Raises InfusionRuleError for an unknown or no route."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in DrugRoute.__members__.values()]
    if unknown or not names:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"'{text}' is not a list of routes; known routes: {', '.join(r.value for r in DrugRoute)}.",
            field="routes",
        )
    return frozenset(DrugRoute(name) for name in names)


@dataclass(frozen=True)
class RescueDrugLimits:
    """The protocol's usual doses of one rescue drug. `dose_by_route_mg` gives (min, max) for a route whose
    usual dose differs (hydralazine 10 mg IV, 25 mg PO); other routes use `usual_dose_min_mg`/`max`.

    Raises InfusionRuleError when a dose is not above 0 mg, a minimum is above its maximum, no route is
    allowed, or a route-specific dose names a route that is not allowed.
    """

    drug: RescueDrug
    routes: frozenset[DrugRoute]
    usual_dose_min_mg: Decimal
    usual_dose_max_mg: Decimal
    controlled: bool
    dose_by_route_mg: Mapping[DrugRoute, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = RESCUE_DRUG_NAMES[RescueDrug(self.drug)]
        if not self.routes:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT, f"{name}: the protocol allows no route.", field="routes"
            )
        ranges = [(self.usual_dose_min_mg, self.usual_dose_max_mg), *self.dose_by_route_mg.values()]
        for low, high in ranges:
            if not (low.is_finite() and high.is_finite()) or low <= 0 or low > high:
                raise InfusionRuleError(
                    InfusionErrorCode.INVALID_INPUT,
                    f"{name}: a usual dose range must be above 0 mg with its minimum not above its maximum "
                    f"({low} to {high} mg).",
                    field="usual_dose_min_mg",
                )
        stray = set(self.dose_by_route_mg) - set(self.routes)
        if stray:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT,
                f"{name}: a dose is given for a route the protocol does not allow "
                f"({', '.join(sorted(route.value for route in stray))}).",
                field="dose_by_route_mg",
            )

    def dose_range_mg(self, route: DrugRoute) -> tuple[Decimal, Decimal]:
        """The usual (minimum, maximum) dose for `route`."""
        return self.dose_by_route_mg.get(route, (self.usual_dose_min_mg, self.usual_dose_max_mg))


class DoseFindingCode(StrEnum):
    ROUTE_NOT_ALLOWED = "rescue_route_not_allowed"
    ABOVE_USUAL_MAXIMUM = "rescue_dose_above_usual_maximum"
    BELOW_USUAL_MINIMUM = "rescue_dose_below_usual_minimum"
    ALLERGY = "rescue_drug_allergy"


@dataclass(frozen=True)
class DoseFinding:
    code: str
    message: str
    is_hard_stop: bool


def _routes_text(routes: frozenset[DrugRoute]) -> str:
    return " or ".join(DRUG_ROUTE_LABELS[route] for route in DrugRoute if route in routes)


def check_rescue_dose(limits: RescueDrugLimits, *, dose_mg: Decimal, route: DrugRoute) -> list[DoseFinding]:
    """What is wrong with giving `dose_mg` of the drug by `route`; an empty list when nothing is.

    A route the protocol does not list is a hard stop, and so is a dose above the usual maximum for that
    route (a clinician may override it with a reason; the service handles that); a dose below the usual
    minimum is a warning. Raises InfusionRuleError for a dose of 0 mg or less, or an unknown route.
    """
    if not dose_mg.is_finite() or dose_mg <= 0:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "The dose must be more than 0 mg.", field="dose_mg"
        )
    try:
        route = DrugRoute(route)
    except ValueError:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"'{route}' is not a route; known routes: {', '.join(r.value for r in DrugRoute)}.",
            field="route",
        ) from None
    name = RESCUE_DRUG_NAMES[RescueDrug(limits.drug)]
    findings: list[DoseFinding] = []
    if route not in limits.routes:
        findings.append(
            DoseFinding(
                DoseFindingCode.ROUTE_NOT_ALLOWED,
                f"{name} is given {_routes_text(limits.routes)} under the protocol, not "
                f"{DRUG_ROUTE_LABELS[route]}.",
                is_hard_stop=True,
            )
        )
    low, high = limits.dose_range_mg(route)
    usual = f"{show_number(low)} mg" if low == high else f"{show_number(low)}-{show_number(high)} mg"
    if dose_mg > high:
        findings.append(
            DoseFinding(
                DoseFindingCode.ABOVE_USUAL_MAXIMUM,
                f"{show_number(dose_mg)} mg of {name} is above the protocol's usual dose of {usual}.",
                is_hard_stop=True,
            )
        )
    elif dose_mg < low:
        findings.append(
            DoseFinding(
                DoseFindingCode.BELOW_USUAL_MINIMUM,
                f"{show_number(dose_mg)} mg of {name} is below the protocol's usual dose of {usual}.",
                is_hard_stop=False,
            )
        )
    return findings


def check_rescue_allergy(drug: RescueDrug, *, allergies: Sequence[str]) -> list[DoseFinding]:
    """A hard stop when the patient's record lists an allergy that rules out `drug` (`allergies`: the matching
    active allergies as recorded, from patients.rules.allergies_to); a clinician may give it with a reason."""
    if not allergies:
        return []
    name = RESCUE_DRUG_NAMES[RescueDrug(drug)]
    return [
        DoseFinding(
            DoseFindingCode.ALLERGY,
            f"The patient's record lists an allergy that rules out {name}: {'; '.join(allergies)}.",
            is_hard_stop=True,
        )
    ]
