"""Clinic outcome reports across apps: response and remission by diagnosis and by comorbidity."""

from dataclasses import dataclass

from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.analytics import rules
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.measures import selectors as measures_selectors
from ketaclinic.measures.rules.outcomes import GroupRates, Rates, rates_by_group
from ketaclinic.patients.models import Patient
from ketaclinic.plans import selectors as plans_selectors
from ketaclinic.screening import catalogues
from ketaclinic.screening import selectors as screening_selectors
from ketaclinic.screening.models import DiagnosisRole


@dataclass(frozen=True)
class LateResponders:
    """Among patients who finished the induction series and responded on this instrument: how many first
    responded only after the series' last infusion."""

    responded_after_series: int
    responded_by_series_end: int


@dataclass(frozen=True)
class InstrumentBreakdown:
    key: str
    short_name: str
    response_rule: str
    remission_rule: str
    total: Rates
    by_diagnosis: list[GroupRates]
    by_comorbidity: list[GroupRates]
    late: LateResponders


def _category_label(category: str) -> str:
    """'F33' -> 'F33 Major depressive disorder, recurrent'; other groups as they are."""
    found = catalogues.lookup(category)
    return f"{category} {found.description}" if found else category


def outcomes_by_diagnosis(*, viewer: Who) -> list[InstrumentBreakdown]:
    """For each outcome instrument: response and remission for everyone with a baseline, by the primary
    diagnosis's ICD-10-CM category and by how many other diagnoses the patient has. Patients without a
    follow-up stay in each denominator. Needs VIEW_OUTCOMES; the read is audited. Three queries."""
    instruments = measures_selectors.outcome_courses(viewer=viewer)
    patient_ids = sorted({patient.pk for item in instruments for patient, _course in item.courses})
    recorded = screening_selectors.current_diagnoses_by_patient(patient_ids=patient_ids)
    series = {
        patient_id: rules.SeriesFacts(item.attended_on, item.booked_ahead, item.infusion_count)
        for patient_id, item in plans_selectors.series_for_patients(patient_ids=patient_ids).items()
    }
    coded = {
        patient_id: [rules.CodedDiagnosis(row.icd10_code, row.role == DiagnosisRole.PRIMARY) for row in rows]
        for patient_id, rows in recorded.items()
    }
    results = []
    for item in instruments:
        by_diagnosis, by_comorbidity, late_flags = [], [], []
        for patient, course in item.courses:
            if patient.pk in series:
                first = course.first_response.administered_at.date() if course.first_response else None
                late_flags.append(rules.is_late_responder(series[patient.pk], first))
            diagnoses = coded.get(patient.pk, [])
            by_diagnosis.append((_category_label(rules.diagnosis_group(diagnoses)), course))
            band = rules.comorbidity_band(diagnoses)
            by_comorbidity.append((band or rules.NO_DIAGNOSIS, course))
        diagnosis_order = sorted({label for label, _ in by_diagnosis} - {rules.NO_DIAGNOSIS})
        results.append(
            InstrumentBreakdown(
                key=item.key,
                short_name=item.short_name,
                response_rule=item.response_rule,
                remission_rule=item.remission_rule,
                total=Rates.of([course for _patient, course in item.courses]),
                by_diagnosis=rates_by_group(by_diagnosis, [*diagnosis_order, rules.NO_DIAGNOSIS]),
                by_comorbidity=rates_by_group(by_comorbidity, [*rules.COMORBIDITY_BANDS, rules.NO_DIAGNOSIS]),
                late=LateResponders(
                    responded_after_series=late_flags.count(True),
                    responded_by_series_end=late_flags.count(False),
                ),
            )
        )
    record_read(
        by=viewer,
        action=Action.LIST,
        object_type=ObjectType.OUTCOMES_BY_DIAGNOSIS,
        summary=f"outcomes by diagnosis and comorbidity for {len(patient_ids)} patient(s)",
    )
    return results


def induction_funnel(*, viewer: Who) -> rules.Funnel:
    """The induction funnel over the viewer's clinics, from every signed plan's series log. Needs
    VIEW_OUTCOMES; audited. Four queries whatever the number of patients."""
    if not can(viewer, Perm.VIEW_OUTCOMES):
        raise PermissionDenied()
    patient_ids = list(Patient.objects.filter(clinic__in=clinics_for(viewer)).values_list("pk", flat=True))
    facts = [
        rules.SeriesFacts(item.attended_on, item.booked_ahead, item.infusion_count)
        for item in plans_selectors.series_for_patients(patient_ids=patient_ids).values()
    ]
    record_read(
        by=viewer,
        action=Action.LIST,
        object_type=ObjectType.INDUCTION_FUNNEL,
        summary=f"{len(facts)} plan(s)",
    )
    return rules.funnel(facts)
