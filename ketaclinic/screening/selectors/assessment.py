"""Reads of the assessment: its state and findings, the population, the eligibility status, the worklist.
Patient reads are scoped to the viewer's clinics and audited."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.patients import rules as patient_rules
from ketaclinic.patients.models import ConsentForm, ConsentKind, ConsentRecord, Patient
from ketaclinic.protocols.models import PopulationChoice
from ketaclinic.protocols.rules import population_for_age
from ketaclinic.protocols.selectors import ProtocolReading, parameters_for, protocol_value
from ketaclinic.screening import rules
from ketaclinic.screening.models import (
    AntidepressantTrial,
    Diagnosis,
    DiagnosisRole,
    DiagnosisStatus,
    EligibilityDecision,
    HardStopOverride,
    HealthHistory,
    IntakeInvitation,
    IntakeSubmission,
    Medication,
    OtherTreatment,
    PregnancyStatus,
    SignedOutcome,
    SubstanceUse,
    VitalSigns,
)
from ketaclinic.screening.selectors._common import _audit_read

# --- patients --------------------------------------------------------------------------------------------


def patient_for(
    *,
    viewer: Who,
    patient_id: int,
    perm: Perm = Perm.VIEW_ASSESSMENT,
    audit_as: ObjectType = ObjectType.ASSESSMENT,
) -> Patient:
    """A patient of the viewer's clinics, for a screening purpose: PermissionDenied without `perm`, NotFound
    for another clinic's patient. The read is audited as `audit_as`."""
    require(viewer, perm)
    patient = (
        Patient.objects.filter(clinic__in=clinics_for(viewer), pk=patient_id).select_related("clinic").first()
    )
    if patient is None:
        raise NotFound("No such patient in your clinics.")
    _audit_read(viewer, patient, audit_as)
    return patient


def eligibility_status(*, patient: Patient) -> str | None:
    """The outcome of the patient's latest signed eligibility decision ('eligible',
    'eligible_with_conditions', 'not_eligible'), or None when none was signed. Not audited: an internal check
    (the caller audits its own read)."""
    return (
        EligibilityDecision.objects.filter(patient=patient)
        .order_by("-signed_at", "-id")
        .values_list("outcome", flat=True)
        .first()
    )


# --- the assessment's current state and findings ---------------------------------------------------------


@dataclass(frozen=True)
class MedicationRow:
    row: Medication
    class_labels: list[str]
    current: bool


@dataclass(frozen=True)
class PopulationValue:
    key: str
    name: str
    value: str
    unit: str
    general_value: str | None
    differs: bool
    verified: bool


@dataclass
class AssessmentState:
    """Everything the rules read for one patient, in a fixed number of queries."""

    patient: Patient
    age_years: int
    population: str
    end_of_life_pathway: bool
    history: HealthHistory | None
    history_versions: int
    diagnoses: list[Diagnosis]
    medications: list[MedicationRow]
    trials: list[AntidepressantTrial]
    treatments: list[OtherTreatment]
    vitals: VitalSigns | None
    overrides: list[HardStopOverride]
    readings: list[ProtocolReading]
    findings: list[rules.Finding]
    unknown_protocol_codes: list[str]
    resistance: rules.TreatmentResistance
    bmi_kg_per_m2: Any = None
    fall_risk_required: bool = False
    guardian_assent_required: bool = False
    treatment_consent_current: bool = False
    # The required contraindication and history questions still unanswered (field names, in form order).
    unanswered: list[str] = field(default_factory=list)

    @property
    def unanswered_labels(self) -> list[str]:
        return [question_label(name) for name in self.unanswered]

    @property
    def consent_missing(self) -> bool:
        """The population's protocol asks for guardian consent and assent, and none is current."""
        return self.guardian_assent_required and not self.treatment_consent_current

    @property
    def overridden_codes(self) -> set[str]:
        return {override.finding_code for override in self.overrides}

    @property
    def hard_stops(self) -> list[rules.Finding]:
        return [finding for finding in self.findings if finding.is_hard_stop]

    @property
    def open_hard_stops(self) -> list[rules.Finding]:
        return [finding for finding in self.hard_stops if finding.code not in self.overridden_codes]

    @property
    def warnings(self) -> list[rules.Finding]:
        return [finding for finding in self.findings if finding.is_warning]

    def readings_snapshot(self) -> list[dict[str, Any]]:
        return [
            {
                "key": reading.key,
                "population": reading.population,
                "version": reading.version,
                "value_id": reading.value_id,
                "value": reading.text,
                "verified": reading.verified,
            }
            for reading in self.readings
        ]


def current_diagnoses_by_patient(*, patient_ids: list[int]) -> dict[int, list[Diagnosis]]:
    """Each patient's current diagnoses (not corrected, not entered in error), primary first. One query.
    Not audited: for aggregate reports whose caller records the report it shows."""
    rows = (
        _current(Diagnosis.objects.filter(patient_id__in=patient_ids))
        .exclude(status=DiagnosisStatus.ENTERED_IN_ERROR)
        .order_by("patient_id", "-role", "recorded_at", "pk")  # "primary" sorts after "comorbid"
    )
    result: dict[int, list[Diagnosis]] = {}
    for row in rows:
        result.setdefault(row.patient_id, []).append(row)
    return result


def _current(rows: QuerySet[Any]) -> QuerySet[Any]:
    """Rows no later row corrects."""
    return rows.filter(corrected_by__isnull=True)


def history_conditions(history: HealthHistory | None) -> set[str]:
    """The contraindication finding codes the health history raises."""
    if history is None:
        return set()
    codes = {
        code
        for code in (
            "uncontrolled_hypertension",
            "unstable_cardiovascular",
            "aneurysm",
            "avm",
            "intracerebral_haemorrhage",
            "ketamine_hypersensitivity",
            "raised_icp",
            "raised_iop",
            "hyperthyroidism",
            "hepatic_disease",
            "obstructive_sleep_apnoea",
            "breastfeeding",
            "cannot_consent",
        )
        if getattr(history, code)
    }
    if history.psychosis_current or history.psychosis_history:
        codes.add("psychosis")
    if history.pregnancy_status in (PregnancyStatus.PREGNANT, PregnancyStatus.POSSIBLE):
        codes.add("pregnancy")
    uses = (
        history.alcohol_use,
        history.cannabis_use,
        history.stimulant_use,
        history.opioid_use,
        history.ketamine_pcp_misuse,
    )
    if SubstanceUse.ACTIVE_DISORDER in uses:
        codes.add("substance_use_disorder")
    if history.stimulant_use in (SubstanceUse.OCCASIONAL, SubstanceUse.ACTIVE_DISORDER):
        codes.add("recreational_stimulants")
    return codes


def question_label(name: str) -> str:
    """A health-history question as the form labels it, capitalised."""
    label = str(getattr(HealthHistory._meta.get_field(name), "verbose_name", name))
    return label[:1].upper() + label[1:]


def history_summary(history: HealthHistory | None) -> list[tuple[str, str]]:
    """The health history as (label, value) pairs worth showing: "yes" answers, choices other than "not asked"
    or a plain no, notes. Unanswered questions are listed apart (AssessmentState.unanswered)."""
    if history is None:
        return []
    quiet = {"unknown", SubstanceUse.NONE, PregnancyStatus.NOT_APPLICABLE}
    items = []
    for name in HEALTH_HISTORY_DISPLAY:
        model_field = HealthHistory._meta.get_field(name)
        value = getattr(history, name)
        label = question_label(name)
        if isinstance(value, bool) or value is None:
            if value:
                items.append((label, "yes"))
        elif getattr(model_field, "choices", None):
            if value not in quiet:
                items.append((label, str(getattr(history, f"get_{name}_display")())))
        elif value:
            items.append((label, str(value)))
    return items


# Display order of the health history on the assessment page (the form's order).
HEALTH_HISTORY_DISPLAY = (
    "end_of_life_pathway",
    "medical_history",
    "cardiovascular_history",
    "uncontrolled_hypertension",
    "unstable_cardiovascular",
    "aneurysm",
    "avm",
    "intracerebral_haemorrhage",
    "ketamine_hypersensitivity",
    "raised_icp",
    "raised_iop",
    "hyperthyroidism",
    "hepatic_disease",
    "obstructive_sleep_apnoea",
    "psychosis_current",
    "psychosis_history",
    "pregnancy_status",
    "breastfeeding",
    "cannot_consent",
    "alcohol_use",
    "cannabis_use",
    "stimulant_use",
    "opioid_use",
    "ketamine_pcp_misuse",
    "substance_use_note",
    "prior_ketamine",
    "prior_ketamine_response",
    "fall_risk_note",
)


def _treatment_consent_current(patient: Patient) -> bool:
    """Whether the patient's treatment consent is current (patients' own consent rule; two queries)."""
    records = list(
        ConsentRecord.objects.filter(patient=patient, form__kind=ConsentKind.TREATMENT).select_related("form")
    )
    newest = ConsentForm.objects.filter(kind=ConsentKind.TREATMENT).order_by("-version").first()
    corrected = {record.corrects_id for record in records if record.corrects_id}
    events = [
        patient_rules.ConsentEvent(
            record_id=record.pk,
            action=patient_rules.ConsentAction(record.action),
            form_version=record.form.version,
            recorded_at=record.recorded_at,
            corrected=record.pk in corrected,
        )
        for record in records
    ]
    status = patient_rules.consent_status(events, current_form_version=newest.version if newest else None)
    return status is patient_rules.ConsentStatus.CURRENT


def assessment_state(*, patient: Patient) -> AssessmentState:
    """The patient's current assessment and what the rules find in it. Not audited and not access-checked:
    the caller (a selector or service below) has done both."""
    today = clock.today_in(patient.clinic.time_zone)
    age = patient_rules.age_in_years(patient.date_of_birth, today)
    majority = protocol_value("age_of_majority_years")
    older = protocol_value("older_adult_from_age_years")
    population = population_for_age(
        age,
        age_of_majority_years=int(majority.text),
        older_adult_from_age_years=int(older.text),
    )
    history_rows = list(HealthHistory.objects.filter(patient=patient).order_by("-recorded_at", "-id")[:1])
    history = history_rows[0] if history_rows else None
    history_versions = HealthHistory.objects.filter(patient=patient).count()
    diagnoses = sorted(
        _current(Diagnosis.objects.filter(patient=patient))
        .exclude(status=DiagnosisStatus.ENTERED_IN_ERROR)
        .order_by("recorded_at", "id"),
        # Primary first, then comorbid, each in the order recorded.
        key=lambda diagnosis: diagnosis.role != DiagnosisRole.PRIMARY,
    )
    medication_rows = list(
        _current(Medication.objects.filter(patient=patient, entered_in_error=False)).order_by("name", "id")
    )
    medications = [
        MedicationRow(
            row=row,
            class_labels=[rules.MEDICATION_CLASSES.get(name, name) for name in row.classes],
            current=row.stopped_on is None or row.stopped_on > today,
        )
        for row in medication_rows
    ]
    trials = list(
        _current(AntidepressantTrial.objects.filter(patient=patient, entered_in_error=False)).order_by(
            "recorded_at", "id"
        )
    )
    treatments = list(
        _current(OtherTreatment.objects.filter(patient=patient, entered_in_error=False)).order_by(
            "recorded_at", "id"
        )
    )
    vitals = _current(VitalSigns.objects.filter(patient=patient)).order_by("-measured_at", "-id").first()
    overrides = list(
        HardStopOverride.objects.filter(patient=patient)
        .select_related("overridden_by")
        .order_by("overridden_at")
    )
    absolute = protocol_value("screening_absolute_contraindications")
    relative = protocol_value("screening_relative_contraindications")
    systolic = protocol_value("predose_systolic_max_mmhg")
    diastolic = protocol_value("predose_diastolic_max_mmhg")
    fall_risk = protocol_value("screening_fall_risk_assessment_required", population=population)
    assent = protocol_value("screening_guardian_assent_required", population=population)
    not_required = protocol_value("screening_history_questions_not_required")
    readings = [majority, older, absolute, relative, systolic, diastolic, fall_risk, assent, not_required]

    conditions = history_conditions(history)
    if vitals is not None and rules.bp_above_limit(
        vitals.systolic_mmhg,
        vitals.diastolic_mmhg,
        systolic_max=int(systolic.text),
        diastolic_max=int(diastolic.text),
    ):
        conditions.add("baseline_bp_above_predose_limit")
    if not any(
        diagnosis.role == DiagnosisRole.PRIMARY and diagnosis.status == DiagnosisStatus.ACTIVE
        for diagnosis in diagnoses
    ):
        conditions.add("no_primary_diagnosis")
    resistance = rules.treatment_resistance(
        [rules.TrialFacts(trial.dose_adequate, trial.duration_adequate) for trial in trials],
        [treatment.kind for treatment in treatments],
    )
    if resistance.adequate_trials == 0:
        conditions.add("no_adequate_trial")
    treatment_consent_current = _treatment_consent_current(patient)
    absolute_codes = rules.parse_code_list(absolute.text)
    relative_codes = rules.parse_code_list(relative.text)
    findings = rules.evaluate(
        conditions=conditions,
        medications=[
            rules.MedicationFacts(name=item.row.name, classes=tuple(item.row.classes))
            for item in medications
            if item.current
        ],
        absolute=absolute_codes,
        relative=relative_codes,
    )
    return AssessmentState(
        patient=patient,
        age_years=age,
        population=population,
        end_of_life_pathway=bool(history and history.end_of_life_pathway),
        history=history,
        history_versions=history_versions,
        diagnoses=diagnoses,
        medications=medications,
        trials=trials,
        treatments=treatments,
        vitals=vitals,
        overrides=overrides,
        readings=readings,
        findings=findings,
        unknown_protocol_codes=rules.unknown_codes(absolute_codes | relative_codes),
        resistance=resistance,
        bmi_kg_per_m2=vitals.bmi_kg_per_m2 if vitals else None,
        fall_risk_required=fall_risk.value is True,
        guardian_assent_required=assent.value is True,
        treatment_consent_current=treatment_consent_current,
        unanswered=rules.unanswered_questions(
            None if history is None else {name: getattr(history, name) for name in HEALTH_HISTORY_DISPLAY},
            rules.required_questions(not_required.text),
        ),
    )


def population_values(*, viewer: Who, populations: list[str]) -> list[PopulationValue]:
    """Protocol entries specific to the given populations, each beside the general ('all' or 'adult')
    value it replaces, so the page shows which values apply and which differ. One query."""
    if not can(viewer, Perm.VIEW_PROTOCOL):
        return []
    rows = parameters_for(viewer=viewer)
    # The general value of a key: its 'all' entry, else (for a non-adult population) the adult entry.
    everyone = {row.key: row.value for row in rows if row.population == "all"}
    adults = {row.key: row.value for row in rows if row.population == "adult"}
    values = []
    for row in rows:
        if row.population not in populations or row.value is None:
            continue
        other = everyone.get(row.key)
        if other is None and row.population != "adult":
            other = adults.get(row.key)
        values.append(
            PopulationValue(
                key=row.key,
                name=row.name,
                value=row.value,
                unit=row.unit,
                general_value=other,
                differs=other is not None and other != row.value,
                verified=bool(row.verified),
            )
        )
    return values


@dataclass(frozen=True)
class AssessmentPage:
    state: AssessmentState
    history_items: list[tuple[str, str]]
    population_label: str
    population_values: list[PopulationValue]
    decisions: list[EligibilityDecision]
    latest_decision: EligibilityDecision | None
    intake: IntakeSubmission | None
    pending_invitation: IntakeInvitation | None


def assessment_for(*, viewer: Who, patient_id: int) -> AssessmentPage:
    """The assessment page: state, findings, population values, decisions, intake. Audited as one read; a
    fixed number of queries whatever the length of the history."""
    patient = patient_for(viewer=viewer, patient_id=patient_id)
    state = assessment_state(patient=patient)
    populations = [state.population] + (["end_of_life"] if state.end_of_life_pathway else [])
    decisions = list(
        EligibilityDecision.objects.filter(patient=patient)
        .select_related("signed_by")
        .order_by("-signed_at", "-id")[:10]
    )
    intake = IntakeSubmission.objects.filter(patient=patient).order_by("-submitted_at", "-id").first()
    pending = (
        IntakeInvitation.objects.filter(patient=patient, used_at__isnull=True, expires_at__gt=clock.now())
        .order_by("-created_at")
        .first()
    )
    return AssessmentPage(
        state=state,
        history_items=history_summary(state.history),
        population_label=str(dict(PopulationChoice.choices)[state.population]),
        population_values=population_values(viewer=viewer, populations=populations),
        decisions=decisions,
        latest_decision=decisions[0] if decisions else None,
        intake=intake,
        pending_invitation=pending,
    )


def latest_intake(*, patient: Patient) -> IntakeSubmission | None:
    """The newest intake answers (for pre-filling); the caller has checked access and audits its read."""
    return IntakeSubmission.objects.filter(patient=patient).order_by("-submitted_at", "-id").first()


def row_for(*, patient: Patient, model: type[Any], row_id: int) -> Any:
    """One current clinical row of the patient (for a correction); NotFound otherwise."""
    row = model.objects.filter(patient=patient, pk=row_id).first()
    if row is None:
        raise NotFound("No such entry for this patient.")
    return row


def decisions_for(*, patient: Patient) -> list[EligibilityDecision]:
    """Every signed decision of the patient, newest first; the caller has checked access and audited."""
    return list(EligibilityDecision.objects.filter(patient=patient).order_by("-signed_at", "-id"))


def can_record(viewer: Who) -> bool:
    return can(viewer, Perm.RECORD_ASSESSMENT)


WORKLIST_SIZE = 100


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    outcome: str | None
    outcome_label: str
    signed_at: Any


def assessment_worklist(*, viewer: Who, undecided_only: bool = True) -> list[WorklistRow]:
    """Patients of the viewer's clinics with their latest eligibility outcome (undecided ones only, unless
    asked). One query; audited as one list read."""
    require(viewer, Perm.VIEW_ASSESSMENT)
    latest = EligibilityDecision.objects.filter(patient=OuterRef("pk")).order_by("-signed_at", "-id")
    found = (
        Patient.objects.filter(clinic__in=clinics_for(viewer))
        .select_related("clinic")
        .annotate(
            latest_outcome=Subquery(latest.values("outcome")[:1]),
            latest_signed_at=Subquery(latest.values("signed_at")[:1]),
        )
        .order_by("legal_family_name", "legal_given_name", "pk")
    )
    if undecided_only:
        found = found.filter(latest_outcome__isnull=True)
    labels = dict(SignedOutcome.choices)
    rows = [
        WorklistRow(
            patient=patient,
            outcome=patient.latest_outcome,
            outcome_label=str(labels.get(patient.latest_outcome, "Not decided")),
            signed_at=patient.latest_signed_at,
        )
        for patient in found[:WORKLIST_SIZE]
    ]
    record_read(
        by=viewer,
        action=Action.LIST,
        object_type=ObjectType.ASSESSMENT,
        summary=f"worklist: {len(rows)} patients",
    )
    return rows
