"""Pure screening rules: findings (contraindications, interactions) and the eligibility decision. No Django.

Which finding is a hard stop (absolute contraindication) and which a warning needing a documented decision
(relative contraindication) is protocol data: the caller passes the clinic's code lists, read from the
protocol keys `screening_absolute_contraindications` and `screening_relative_contraindications`. A finding
on neither list is a flag: shown with its source and suggested action, no decision required.
"""

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

SANACORA = (
    "Sanacora et al., JAMA Psychiatry 2017;74(4):399-405 (PROTOCOL.md §1.3; item-level list unverified)"
)
SPRAVATO_PI_4 = "Spravato PI §4 contraindications (PROTOCOL.md §2; unverified)"


class Severity(StrEnum):
    HARD_STOP = "hard_stop"
    WARNING = "warning"
    FLAG = "flag"


class FindingKind(StrEnum):
    CONTRAINDICATION = "contraindication"
    INTERACTION = "interaction"
    SELECTION = "selection"


@dataclass(frozen=True)
class FindingDefinition:
    code: str
    kind: FindingKind
    label: str
    action: str
    source: str


def _definition(code: str, kind: FindingKind, label: str, action: str, source: str) -> FindingDefinition:
    return FindingDefinition(code=code, kind=kind, label=label, action=action, source=source)


_C = FindingKind.CONTRAINDICATION
_I = FindingKind.INTERACTION

# Every finding the rules can raise. Codes are what the protocol lists name; labels and sources are shown.
FINDINGS: dict[str, FindingDefinition] = {
    d.code: d
    for d in (
        _definition(
            "aneurysm", _C, "Aneurysmal vascular disease", "Do not treat unless overridden.", SPRAVATO_PI_4
        ),
        _definition(
            "avm", _C, "Arteriovenous malformation", "Do not treat unless overridden.", SPRAVATO_PI_4
        ),
        _definition(
            "intracerebral_haemorrhage",
            _C,
            "History of intracerebral haemorrhage",
            "Do not treat unless overridden.",
            SPRAVATO_PI_4,
        ),
        _definition(
            "ketamine_hypersensitivity",
            _C,
            "Hypersensitivity to ketamine or esketamine",
            "Do not treat unless overridden.",
            SPRAVATO_PI_4,
        ),
        _definition(
            "uncontrolled_hypertension",
            _C,
            "Uncontrolled hypertension",
            "Treat blood pressure first; document the decision.",
            SANACORA,
        ),
        _definition(
            "unstable_cardiovascular",
            _C,
            "Unstable or untreated cardiovascular disease (ischaemic heart disease, recent MI or stroke)",
            "Cardiology opinion; document the decision.",
            SANACORA,
        ),
        _definition(
            "psychosis",
            _C,
            "Current psychosis or history of psychosis",
            "Weigh risk of worsening psychosis; document the decision.",
            SANACORA + "; psychosis history attention verified via mdedge summary",
        ),
        _definition(
            "substance_use_disorder",
            _C,
            "Active substance use disorder (especially ketamine, PCP or stimulant misuse)",
            "Weigh misuse risk; document the decision.",
            SANACORA + "; substance-use attention verified via mdedge summary",
        ),
        _definition(
            "pregnancy", _C, "Pregnancy", "Avoid; document the decision.", SANACORA + "; PROTOCOL.md §9"
        ),
        _definition("breastfeeding", _C, "Breast-feeding", "Document the decision.", SANACORA),
        _definition("raised_icp", _C, "Raised intracranial pressure", "Document the decision.", SANACORA),
        _definition(
            "raised_iop", _C, "Raised intra-ocular pressure (glaucoma)", "Document the decision.", SANACORA
        ),
        _definition(
            "hyperthyroidism", _C, "Uncontrolled hyperthyroidism", "Document the decision.", SANACORA
        ),
        _definition("hepatic_disease", _C, "Severe hepatic disease", "Document the decision.", SANACORA),
        _definition(
            "cannot_consent",
            _C,
            "Unable to give informed consent",
            "Document the decision (and who consents).",
            SANACORA,
        ),
        _definition(
            "obstructive_sleep_apnoea",
            _C,
            "Obstructive sleep apnoea",
            "Airway plan; monitor SpO2 closely.",
            "Sanacora 2017 baseline assessment: cardiovascular and airway (OSA) "
            "(PROTOCOL.md §1.3; unverified)",
        ),
        _definition(
            "baseline_bp_above_predose_limit",
            _C,
            "Latest blood pressure above the pre-dose limit",
            "Recheck; review before the first infusion.",
            "Pre-dose BP > 140/90 review (PROTOCOL.md §1.4; Spravato PI wording unverified)",
        ),
        _definition(
            "no_primary_diagnosis",
            FindingKind.SELECTION,
            "No primary diagnosis recorded",
            "Record the diagnosis that ketamine would treat.",
            "Patient selection: confirmed major depressive episode (PROTOCOL.md §1.3)",
        ),
        _definition(
            "no_adequate_trial",
            FindingKind.SELECTION,
            "No adequate antidepressant trial recorded",
            "Document prior treatment: selection assumes treatment resistance (prior adequate trials).",
            "Patient selection: treatment resistance, prior adequate trials (PROTOCOL.md §1.3)",
        ),
        _definition(
            "benzodiazepine",
            _I,
            "Benzodiazepine: higher doses may blunt the response",
            "Flag; consider holding the evening/morning dose (clinic policy).",
            "Andrashko 2020 Front Psychiatry 11:844 (verified); Feeney 2023 J Clin Psychiatry 84:22m14491 "
            "(verified) — PROTOCOL.md §10",
        ),
        _definition(
            "lamotrigine",
            _I,
            "Lamotrigine: may reduce ketamine's perceptual effects; effect on response unknown",
            "Flag only.",
            "Andrade 2017 JCP 'Ketamine for depression, 5' (verified); Anand 2000 (unverified) "
            "— PROTOCOL.md §10",
        ),
        _definition(
            "maoi",
            _I,
            "MAOI: raises blood pressure",
            "Check blood pressure closely.",
            "Spravato REMS form (verified); Spravato PI §7 (unverified) — PROTOCOL.md §10",
        ),
        _definition(
            "stimulant",
            _I,
            "Psychostimulant: raises blood pressure",
            "Check blood pressure closely.",
            "Spravato REMS form (verified); Spravato PI §7 (unverified) — PROTOCOL.md §10",
        ),
        _definition(
            "sedative",
            _I,
            "CNS depressant, hypnotic or opioid: additive sedation and respiratory depression",
            "Monitor SpO2.",
            "Spravato REMS form/PI (verified list) — PROTOCOL.md §10",
        ),
        _definition(
            "cyp_inducer",
            _I,
            "CYP3A4/2B6 inducer: lower ketamine exposure",
            "Note.",
            "Andrade 2017 (mechanism verified; example drugs unverified) — PROTOCOL.md §10",
        ),
        _definition(
            "cyp_inhibitor",
            _I,
            "CYP3A4/2B6 inhibitor: higher ketamine exposure",
            "Note.",
            "Andrade 2017 (mechanism verified; example drugs unverified) — PROTOCOL.md §10",
        ),
        _definition(
            "naltrexone",
            _I,
            "Naltrexone: blocked the antidepressant effect in one small study",
            "Flag.",
            "Williams 2018 Am J Psychiatry; not replicated in AUD, Yoon 2019 (unverified) — PROTOCOL.md §10",
        ),
        _definition(
            "thyroid_hormone",
            _I,
            "Thyroid hormone: hypertension and tachycardia",
            "Flag.",
            "Ketalar label (unverified) — PROTOCOL.md §10",
        ),
        _definition(
            "theophylline",
            _I,
            "Theophylline/aminophylline: lowered seizure threshold",
            "Flag.",
            "Ketalar label (unverified) — PROTOCOL.md §10",
        ),
        _definition(
            "lithium_valproate",
            _I,
            "Lithium or valproate: compatible (bipolar RCT added ketamine to them)",
            "None.",
            "Diazgranados 2010 (PMC3000408, verified) — PROTOCOL.md §10",
        ),
        _definition(
            "recreational_stimulants",
            _I,
            "Recreational stimulant or cocaine use: marked sympathomimetic risk",
            "Screen.",
            "CU Anschutz news (verified quote) — PROTOCOL.md §10",
        ),
    )
}

# Medication classes (as named in medications.json) and the interaction finding each raises.
CLASS_INTERACTIONS: dict[str, str] = {
    "benzodiazepine": "benzodiazepine",
    "lamotrigine": "lamotrigine",
    "maoi": "maoi",
    "stimulant": "stimulant",
    "opioid": "sedative",
    "z_drug": "sedative",
    "sedative_hypnotic": "sedative",
    "cns_depressant": "sedative",
    "cyp3a4_inducer": "cyp_inducer",
    "cyp3a4_inhibitor": "cyp_inhibitor",
    "opioid_antagonist": "naltrexone",
    "thyroid_hormone": "thyroid_hormone",
    "methylxanthine": "theophylline",
    "lithium": "lithium_valproate",
    "valproate": "lithium_valproate",
}

MEDICATION_CLASSES: dict[str, str] = {
    "ssri": "SSRI",
    "snri": "SNRI",
    "tca": "Tricyclic antidepressant",
    "maoi": "MAOI",
    "antidepressant_other": "Other antidepressant",
    "esketamine": "Esketamine",
    "lithium": "Lithium",
    "valproate": "Valproate",
    "lamotrigine": "Lamotrigine",
    "anticonvulsant": "Anticonvulsant",
    "antipsychotic": "Antipsychotic",
    "benzodiazepine": "Benzodiazepine",
    "z_drug": "Z-drug hypnotic",
    "sedative_hypnotic": "Other sedative or hypnotic",
    "cns_depressant": "Other CNS depressant",
    "stimulant": "Psychostimulant",
    "adhd_non_stimulant": "ADHD non-stimulant",
    "alpha2_agonist": "Alpha-2 agonist",
    "opioid": "Opioid",
    "opioid_antagonist": "Opioid antagonist",
    "thyroid_hormone": "Thyroid hormone",
    "methylxanthine": "Methylxanthine (theophylline)",
    "cyp3a4_inducer": "CYP3A4/2B6 inducer",
    "cyp3a4_inhibitor": "CYP3A4/2B6 inhibitor",
    "antihypertensive": "Antihypertensive",
    "antidiabetic": "Antidiabetic",
    "statin": "Statin",
    "contraceptive": "Hormonal contraceptive",
    "other": "Other",
}


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    ELIGIBLE_WITH_CONDITIONS = "eligible_with_conditions"
    NOT_ELIGIBLE = "not_eligible"
    BLOCKED = "blocked"


# What a clinician may propose when signing; BLOCKED is only ever the rules' answer.
PROPOSABLE = (Outcome.ELIGIBLE, Outcome.ELIGIBLE_WITH_CONDITIONS, Outcome.NOT_ELIGIBLE)


@dataclass(frozen=True)
class Finding:
    code: str
    kind: FindingKind
    severity: Severity
    label: str
    action: str
    source: str
    because: tuple[str, ...]

    @property
    def is_hard_stop(self) -> bool:
        return self.severity is Severity.HARD_STOP

    @property
    def is_warning(self) -> bool:
        return self.severity is Severity.WARNING


def parse_code_list(text: str) -> frozenset[str]:
    """'aneurysm, avm' -> {'aneurysm', 'avm'}: the protocol's comma-separated lists of finding codes."""
    return frozenset(part.strip().lower() for part in text.split(",") if part.strip())


def unknown_codes(codes: Iterable[str]) -> list[str]:
    """Codes a protocol list names that no rule raises (shown on the page so a typo is not silent)."""
    return sorted(code for code in codes if code not in FINDINGS)


def severity_for(code: str, *, absolute: Collection[str], relative: Collection[str]) -> Severity:
    """Absolute beats relative; anything on neither list is a flag."""
    if code in absolute:
        return Severity.HARD_STOP
    if code in relative:
        return Severity.WARNING
    return Severity.FLAG


@dataclass(frozen=True)
class MedicationFacts:
    name: str
    classes: tuple[str, ...]


def evaluate(
    *,
    conditions: Collection[str],
    medications: Iterable[MedicationFacts],
    absolute: Collection[str],
    relative: Collection[str],
) -> list[Finding]:
    """Every finding for a patient: contraindication codes present (`conditions`, each a FINDINGS code) and
    the interactions of their current medications, each with its severity from the protocol lists.

    Ordered hard stops first, then warnings, then flags; within a severity by code. Unknown condition codes
    are ignored (the caller only passes codes it derived from FINDINGS).
    """
    because: dict[str, list[str]] = {}
    for code in conditions:
        if code in FINDINGS:
            because.setdefault(code, [])
    for medication in medications:
        for medication_class in medication.classes:
            interaction = CLASS_INTERACTIONS.get(medication_class)
            if interaction is not None and medication.name not in because.setdefault(interaction, []):
                because[interaction].append(medication.name)
    order = {Severity.HARD_STOP: 0, Severity.WARNING: 1, Severity.FLAG: 2}
    findings = []
    for code, reasons in because.items():
        definition = FINDINGS[code]
        findings.append(
            Finding(
                code=code,
                kind=definition.kind,
                severity=severity_for(code, absolute=absolute, relative=relative),
                label=definition.label,
                action=definition.action,
                source=definition.source,
                because=tuple(reasons),
            )
        )
    return sorted(findings, key=lambda finding: (order[finding.severity], finding.code))


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[str, ...]


# The health-history questions that feed the contraindication rules, in the form's order. Each must be
# answered before a patient is signed eligible, unless the protocol's
# `screening_history_questions_not_required` lists it.
CONTRAINDICATION_QUESTIONS: tuple[str, ...] = (
    "uncontrolled_hypertension",
    "unstable_cardiovascular",
    "aneurysm",
    "avm",
    "intracerebral_haemorrhage",
    "raised_icp",
    "raised_iop",
    "hyperthyroidism",
    "hepatic_disease",
    "obstructive_sleep_apnoea",
    "ketamine_hypersensitivity",
    "psychosis_current",
    "psychosis_history",
    "cannot_consent",
    "pregnancy_status",
    "breastfeeding",
    "alcohol_use",
    "cannabis_use",
    "stimulant_use",
    "opioid_use",
    "ketamine_pcp_misuse",
)


def required_questions(not_required_text: str) -> list[str]:
    """The contraindication questions that must be answered, given the protocol's list of exceptions
    ("none" for no exception)."""
    exempt = parse_code_list(not_required_text) - {"none"}
    return [name for name in CONTRAINDICATION_QUESTIONS if name not in exempt]


# How an unanswered question is stored: None for a yes/no question, "unknown" for a choice question.
NOT_ASKED_VALUES: tuple[object, ...] = (None, "", "unknown")


def unanswered_questions(answers: Mapping[str, object] | None, required: Iterable[str]) -> list[str]:
    """The required questions (in the order given) without an answer: no history at all, a question the
    history does not hold, or an answer still "not asked". "No" (False, "none", "not_applicable") is an
    answer."""
    return [
        name
        for name in required
        if answers is None or name not in answers or answers[name] in NOT_ASKED_VALUES
    ]


def decide(
    *,
    proposed: Outcome,
    findings: Iterable[Finding],
    overridden: Collection[str],
    documented: Collection[str],
    consent_missing: bool = False,
    unanswered: Sequence[str] = (),
) -> Decision:
    """The outcome for a clinician's proposal, given the findings, the hard stops overridden and the
    warnings with a documented decision. Exactly one outcome for every combination:

    - proposing NOT_ELIGIBLE is always accepted (declining needs no override);
    - a hard stop without an override, a warning without a documented decision, a required contraindication
      or history question still unanswered (`unanswered`, named in the reasons), or (where the population's
      protocol requires it) no current treatment consent from the guardian with the child's assent, gives
      BLOCKED;
    - ELIGIBLE with an overridden hard stop or a documented warning becomes ELIGIBLE_WITH_CONDITIONS;
    - otherwise the proposal stands.
    """
    found = list(findings)
    if proposed is Outcome.NOT_ELIGIBLE:
        return Decision(Outcome.NOT_ELIGIBLE, ("declined by the clinician",))
    if proposed is Outcome.BLOCKED:
        return Decision(Outcome.BLOCKED, ("blocked is not a decision a clinician signs",))
    open_stops = [f.code for f in found if f.is_hard_stop and f.code not in overridden]
    open_warnings = [f.code for f in found if f.is_warning and f.code not in documented]
    if open_stops or open_warnings or consent_missing or unanswered:
        reasons = []
        if unanswered:
            reasons.append("questions not answered: " + ", ".join(unanswered))
        reasons += [f"hard stop without override: {code}" for code in open_stops]
        reasons += [f"warning without a documented decision: {code}" for code in open_warnings]
        if consent_missing:
            reasons.append("no current treatment consent from a guardian (with the child's assent)")
        return Decision(Outcome.BLOCKED, tuple(reasons))
    conditional = [f.code for f in found if f.is_hard_stop or f.is_warning]
    if proposed is Outcome.ELIGIBLE and conditional:
        return Decision(
            Outcome.ELIGIBLE_WITH_CONDITIONS,
            tuple(f"eligible only with conditions because of: {code}" for code in conditional),
        )
    return Decision(proposed, ())


@dataclass(frozen=True)
class TrialFacts:
    dose_adequate: bool
    duration_adequate: bool


@dataclass(frozen=True)
class TreatmentResistance:
    adequate_trials: int
    inadequate_trials: int
    ect_courses: int
    tms_courses: int
    psychotherapy_courses: int


def treatment_resistance(
    trials: Iterable[TrialFacts], other_treatments: Iterable[str]
) -> TreatmentResistance:
    """Counted adequate antidepressant trials (adequate dose AND adequate duration, as recorded per trial)
    and the courses of ECT, TMS and psychotherapy. No staging score: the Maudsley Staging Method is not
    implemented (its item weights were not verified)."""
    listed = list(trials)
    adequate = sum(1 for trial in listed if trial.dose_adequate and trial.duration_adequate)
    kinds = list(other_treatments)
    return TreatmentResistance(
        adequate_trials=adequate,
        inadequate_trials=len(listed) - adequate,
        ect_courses=kinds.count("ect"),
        tms_courses=kinds.count("tms"),
        psychotherapy_courses=kinds.count("psychotherapy"),
    )


def bp_above_limit(systolic_mmhg: int, diastolic_mmhg: int, *, systolic_max: int, diastolic_max: int) -> bool:
    """True when either reading is above the protocol's pre-dose limit."""
    return systolic_mmhg > systolic_max or diastolic_mmhg > diastolic_max


def token_is_usable(*, expires_at: dt.datetime, used: bool, now: dt.datetime) -> bool:
    """An intake link works once, until it expires."""
    return not used and now < expires_at
