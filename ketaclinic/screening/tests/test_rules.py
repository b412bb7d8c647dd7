"""Pure screening rules: no database."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.rules import body_mass_index_kg_per_m2
from ketaclinic.screening import rules
from ketaclinic.screening.rules import Finding, FindingKind, Outcome, Severity

ABSOLUTE = frozenset({"aneurysm", "avm", "intracerebral_haemorrhage", "ketamine_hypersensitivity"})
RELATIVE = frozenset({"psychosis", "pregnancy", "uncontrolled_hypertension"})
CODES = sorted(rules.FINDINGS)
CLASSES = sorted(rules.MEDICATION_CLASSES)


def finding(code: str, severity: Severity) -> Finding:
    return Finding(code, FindingKind.CONTRAINDICATION, severity, code, "", "", ())


def test_parse_code_list_trims_and_lowers() -> None:
    assert rules.parse_code_list(" Aneurysm, avm ,,") == frozenset({"aneurysm", "avm"})


def test_unknown_codes_are_reported_sorted() -> None:
    assert rules.unknown_codes({"avm", "zebra", "aardvark"}) == ["aardvark", "zebra"]


def test_absolute_contraindication_is_a_hard_stop_and_relative_a_warning() -> None:
    findings = rules.evaluate(
        conditions={"aneurysm", "psychosis", "obstructive_sleep_apnoea"},
        medications=[],
        absolute=ABSOLUTE,
        relative=RELATIVE,
    )
    assert [(f.code, f.severity) for f in findings] == [
        ("aneurysm", Severity.HARD_STOP),
        ("psychosis", Severity.WARNING),
        ("obstructive_sleep_apnoea", Severity.FLAG),
    ]


def test_medication_classes_raise_their_interactions_naming_the_drugs() -> None:
    findings = rules.evaluate(
        conditions=set(),
        medications=[
            rules.MedicationFacts("lorazepam", ("benzodiazepine",)),
            rules.MedicationFacts("zolpidem", ("z_drug",)),
            rules.MedicationFacts("oxycodone", ("opioid",)),
            rules.MedicationFacts("lamotrigine", ("lamotrigine", "anticonvulsant")),
            rules.MedicationFacts("sertraline", ("ssri",)),
        ],
        absolute=ABSOLUTE,
        relative=RELATIVE,
    )
    assert [(f.code, f.because) for f in findings] == [
        ("benzodiazepine", ("lorazepam",)),
        ("lamotrigine", ("lamotrigine",)),
        ("sedative", ("zolpidem", "oxycodone")),
    ]
    assert all(f.severity is Severity.FLAG and f.kind is FindingKind.INTERACTION for f in findings)
    assert "Andrashko 2020" in findings[0].source


def test_a_clinic_may_make_an_interaction_a_hard_stop() -> None:
    findings = rules.evaluate(
        conditions=set(),
        medications=[rules.MedicationFacts("phenelzine", ("maoi",))],
        absolute=ABSOLUTE | {"maoi"},
        relative=RELATIVE,
    )
    assert [(f.code, f.severity) for f in findings] == [("maoi", Severity.HARD_STOP)]


def test_every_class_interaction_names_a_known_finding() -> None:
    assert set(rules.CLASS_INTERACTIONS.values()) <= set(rules.FINDINGS)
    assert set(rules.CLASS_INTERACTIONS) <= set(rules.MEDICATION_CLASSES)


severities = st.sampled_from(list(Severity))
findings_strategy = st.lists(
    st.tuples(st.sampled_from(CODES), severities), unique_by=lambda pair: pair[0], max_size=8
).map(lambda pairs: [finding(code, severity) for code, severity in pairs])


@given(
    proposed=st.sampled_from(list(Outcome)),
    found=findings_strategy,
    overridden=st.sets(st.sampled_from(CODES)),
    documented=st.sets(st.sampled_from(CODES)),
    consent_missing=st.booleans(),
)
def test_every_combination_gives_exactly_one_known_outcome(
    proposed: Outcome, found: list[Finding], overridden: set[str], documented: set[str], consent_missing: bool
) -> None:
    decision = rules.decide(
        proposed=proposed,
        findings=found,
        overridden=overridden,
        documented=documented,
        consent_missing=consent_missing,
    )
    assert isinstance(decision.outcome, Outcome)
    open_stop = any(f.is_hard_stop and f.code not in overridden for f in found)
    open_warning = any(f.is_warning and f.code not in documented for f in found)
    if proposed is Outcome.NOT_ELIGIBLE:
        assert decision.outcome is Outcome.NOT_ELIGIBLE
    elif proposed is Outcome.BLOCKED or open_stop or open_warning or consent_missing:
        assert decision.outcome is Outcome.BLOCKED
    elif proposed is Outcome.ELIGIBLE and any(f.is_hard_stop or f.is_warning for f in found):
        assert decision.outcome is Outcome.ELIGIBLE_WITH_CONDITIONS
    else:
        assert decision.outcome is proposed


@given(
    proposed=st.sampled_from([Outcome.ELIGIBLE, Outcome.ELIGIBLE_WITH_CONDITIONS]),
    found=findings_strategy,
    documented=st.sets(st.sampled_from(CODES)),
)
def test_any_absolute_contraindication_blocks_unless_overridden(
    proposed: Outcome, found: list[Finding], documented: set[str]
) -> None:
    stops = [f for f in found if f.is_hard_stop]
    blocked = rules.decide(proposed=proposed, findings=found, overridden=set(), documented=documented)
    if stops:
        assert blocked.outcome is Outcome.BLOCKED
        assert all(f"hard stop without override: {f.code}" in blocked.reasons for f in stops)
    overridden = {f.code for f in stops}
    everything_documented = documented | {f.code for f in found if f.is_warning}
    allowed = rules.decide(
        proposed=proposed, findings=found, overridden=overridden, documented=everything_documented
    )
    assert allowed.outcome is not Outcome.BLOCKED


def test_eligible_with_an_override_becomes_eligible_with_conditions() -> None:
    decision = rules.decide(
        proposed=Outcome.ELIGIBLE,
        findings=[finding("aneurysm", Severity.HARD_STOP), finding("benzodiazepine", Severity.FLAG)],
        overridden={"aneurysm"},
        documented=set(),
    )
    assert decision == rules.Decision(
        Outcome.ELIGIBLE_WITH_CONDITIONS, ("eligible only with conditions because of: aneurysm",)
    )


def test_flags_alone_leave_eligible_as_proposed() -> None:
    decision = rules.decide(
        proposed=Outcome.ELIGIBLE,
        findings=[finding("benzodiazepine", Severity.FLAG)],
        overridden=set(),
        documented=set(),
    )
    assert decision == rules.Decision(Outcome.ELIGIBLE, ())


@given(
    st.lists(st.tuples(st.booleans(), st.booleans()), max_size=12),
    st.lists(st.sampled_from(["ect", "tms", "psychotherapy"]), max_size=6),
)
def test_adequate_trials_need_both_dose_and_duration(
    trials: list[tuple[bool, bool]], others: list[str]
) -> None:
    summary = rules.treatment_resistance([rules.TrialFacts(d, t) for d, t in trials], others)
    assert summary.adequate_trials == sum(1 for d, t in trials if d and t)
    assert summary.adequate_trials + summary.inadequate_trials == len(trials)
    assert summary.ect_courses == others.count("ect")
    assert summary.tms_courses == others.count("tms")
    assert summary.psychotherapy_courses == others.count("psychotherapy")


def test_body_mass_index_rounds_half_up_to_one_place() -> None:
    assert body_mass_index_kg_per_m2(Decimal("70"), Decimal("175")) == Decimal("22.9")
    assert body_mass_index_kg_per_m2(Decimal("100"), Decimal("200")) == Decimal("25.0")


def test_bp_above_limit_on_either_reading() -> None:
    assert rules.bp_above_limit(141, 80, systolic_max=140, diastolic_max=90) is True
    assert rules.bp_above_limit(120, 91, systolic_max=140, diastolic_max=90) is True
    assert rules.bp_above_limit(140, 90, systolic_max=140, diastolic_max=90) is False


def test_intake_link_works_once_until_it_expires() -> None:
    now = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    later = now + dt.timedelta(days=1)
    assert rules.token_is_usable(expires_at=later, used=False, now=now) is True
    assert rules.token_is_usable(expires_at=later, used=True, now=now) is False
    assert rules.token_is_usable(expires_at=now, used=False, now=now) is False


# --- not asked is not "no" ---


def test_no_history_leaves_every_required_question_unanswered() -> None:
    assert rules.unanswered_questions(None, ["aneurysm", "alcohol_use"]) == ["aneurysm", "alcohol_use"]


def test_no_is_an_answer_and_not_asked_is_not() -> None:
    answers = {
        "aneurysm": False,
        "avm": None,
        "alcohol_use": "none",
        "cannabis_use": "unknown",
        "pregnancy_status": "not_applicable",
    }
    required = ["aneurysm", "avm", "alcohol_use", "cannabis_use", "pregnancy_status", "breastfeeding"]
    assert rules.unanswered_questions(answers, required) == ["avm", "cannabis_use", "breastfeeding"]


def test_required_questions_are_every_contraindication_question_but_the_protocol_exceptions() -> None:
    assert rules.required_questions("none") == list(rules.CONTRAINDICATION_QUESTIONS)
    assert "breastfeeding" not in rules.required_questions("breastfeeding, pregnancy_status")
    assert (
        len(rules.required_questions("breastfeeding, pregnancy_status"))
        == len(rules.CONTRAINDICATION_QUESTIONS) - 2
    )


def test_unanswered_questions_block_an_eligible_decision_and_are_named() -> None:
    decision = rules.decide(
        proposed=Outcome.ELIGIBLE,
        findings=[],
        overridden=set(),
        documented=set(),
        unanswered=["Aneurysmal vascular disease", "Alcohol use"],
    )
    assert decision == rules.Decision(
        Outcome.BLOCKED, ("questions not answered: Aneurysmal vascular disease, Alcohol use",)
    )


def test_declining_needs_no_answers() -> None:
    decision = rules.decide(
        proposed=Outcome.NOT_ELIGIBLE, findings=[], overridden=set(), documented=set(), unanswered=["Avm"]
    )
    assert decision.outcome is Outcome.NOT_ELIGIBLE


@given(
    st.dictionaries(
        st.sampled_from(rules.CONTRAINDICATION_QUESTIONS),
        st.sampled_from([None, "unknown", "", True, False, "none", "pregnant", "not_applicable"]),
    )
)
def test_an_eligible_proposal_is_blocked_exactly_when_a_required_answer_is_missing(answers) -> None:
    required = list(rules.CONTRAINDICATION_QUESTIONS)
    missing = rules.unanswered_questions(answers, required)
    assert missing == [name for name in required if answers.get(name, None) in (None, "unknown", "")]
    decision = rules.decide(
        proposed=Outcome.ELIGIBLE, findings=[], overridden=set(), documented=set(), unanswered=missing
    )
    assert (decision.outcome is Outcome.BLOCKED) is bool(missing)
