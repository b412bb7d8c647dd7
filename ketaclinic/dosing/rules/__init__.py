"""Pure dosing rules: dosing weight, infusion arithmetic, hard stops and warnings, titration. No Django here.

Every clinical number comes in through `DosingLimits` (read from the clinic's protocol by the services); the
only literals are the definitions of named formulas (Devine's ideal body weight, inches per centimetre).
Arithmetic is Decimal and rounds half up to the protocol's steps, in the order a pharmacist would: dose,
then the volume drawn from the rounded dose, then the pump rate from the rounded bag volume.

Split by subject: `terms` (the vocabulary), `arithmetic`, `checks` (hard stops and warnings), `titration`;
everything is importable from `ketaclinic.dosing.rules` itself.
"""

from ketaclinic.core.rules import body_mass_index_kg_per_m2
from ketaclinic.dosing.rules.arithmetic import (
    CM_PER_INCH,
    DEVINE_BASE_FEMALE_KG,
    DEVINE_BASE_MALE_KG,
    DEVINE_FROM_INCHES,
    DEVINE_KG_PER_INCH,
    MINUTES_PER_HOUR,
    DosingWeight,
    OrderComputation,
    adjusted_body_weight_kg,
    compute_order,
    dosing_weight,
    ideal_body_weight_kg,
    rate_matches,
    syringe_dose_mg,
    volume_rounding_note,
)
from ketaclinic.dosing.rules.checks import (
    OrderContext,
    findings_from_snapshot,
    findings_snapshot,
    hard_stops,
    order_findings,
    unresolved_hard_stops,
)
from ketaclinic.dosing.rules.terms import (
    BodySex,
    DosingLimits,
    EligibilityStatus,
    Finding,
    FindingCode,
    OrderInputs,
    RoundingSteps,
    Severity,
    WeightBasis,
    round_to_step,
    show,
)
from ketaclinic.dosing.rules.titration import (
    TitrationProposal,
    TitrationStep,
    propose_titration,
)

__all__ = [
    "CM_PER_INCH",
    "DEVINE_BASE_FEMALE_KG",
    "DEVINE_BASE_MALE_KG",
    "DEVINE_FROM_INCHES",
    "DEVINE_KG_PER_INCH",
    "MINUTES_PER_HOUR",
    "BodySex",
    "DosingLimits",
    "DosingWeight",
    "EligibilityStatus",
    "Finding",
    "FindingCode",
    "OrderComputation",
    "OrderContext",
    "OrderInputs",
    "RoundingSteps",
    "Severity",
    "TitrationProposal",
    "TitrationStep",
    "WeightBasis",
    "adjusted_body_weight_kg",
    "body_mass_index_kg_per_m2",
    "compute_order",
    "dosing_weight",
    "findings_from_snapshot",
    "findings_snapshot",
    "hard_stops",
    "ideal_body_weight_kg",
    "order_findings",
    "propose_titration",
    "rate_matches",
    "round_to_step",
    "show",
    "syringe_dose_mg",
    "unresolved_hard_stops",
    "volume_rounding_note",
]
