"""Demo treatment plans, made through the plans services: Lena's signed plan (after her signed eligibility
decision from the screening demo), Theo's signed plan with no infusion booked (the front desk books his
series), and a draft for Walter on the end-of-life pathway. The series log stays empty: the scheduling demo
books Lena's series. Idempotent: a second call makes nothing."""

from decimal import Decimal

from ketaclinic.accounts.models import User
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.plans import services
from ketaclinic.plans.models import PlanDraft, PlanOverride, PlanVersion, TreatmentPlan
from ketaclinic.plans.rules import AfterSeries
from ketaclinic.plans.selectors import patient_population, plan_defaults, sublingual_defaults


def _count(patients: list[Patient]) -> int:
    return (
        TreatmentPlan.objects.filter(patient__in=patients).count()
        + PlanDraft.objects.filter(plan__patient__in=patients).count()
        + PlanVersion.objects.filter(plan__patient__in=patients).count()
        + PlanOverride.objects.filter(plan__patient__in=patients).count()
    )


def _lena(drchen: User, lena: Patient) -> None:
    content = plan_defaults(population=patient_population(patient=lena))
    content.induction_infusion_count = 6
    content.induction_span_days = 21
    content.start_dose_mg_per_kg = Decimal("0.5")
    content.scales = "phq9, gad7"
    content.stability_instrument = "phq9"
    content.psychotherapy_preparation_sessions = 1
    content.psychotherapy_integration_sessions = 2
    content.after_series = AfterSeries.MAINTENANCE.value
    content.maintenance_interval_days = 21
    content.titration_allowed = True
    content.titration_note = (
        "If PHQ-9 has not fallen by a quarter after infusion 3, raise by one titration step per infusion "
        "up to the protocol's ceiling; not while blood pressure is above the pre-infusion limit."
    )
    content.follow_up_note = "Video check-in with Dr Chen; PHQ-9 before each visit."
    services.create_and_sign_plan(
        by=drchen,
        patient=lena,
        content=content,
        reason="Induction series for treatment-resistant depression; eligible with conditions "
        "(blood pressure checked before each infusion).",
    )


def _theo(drchen: User, theo: Patient) -> None:
    content = plan_defaults(population=patient_population(patient=theo))
    content.induction_infusion_count = 6
    content.induction_span_days = 21
    content.start_dose_mg_per_kg = Decimal("0.5")
    content.scales = "phq9"
    content.stability_instrument = "phq9"
    content.psychotherapy_preparation_sessions = 1
    content.psychotherapy_integration_sessions = 1
    content.after_series = AfterSeries.MAINTENANCE.value
    content.maintenance_interval_days = 28
    content.follow_up_note = "PHQ-9 before each visit; review with Dr Chen after the series."
    services.create_and_sign_plan(
        by=drchen,
        patient=theo,
        content=content,
        reason="Induction series for recurrent depression; eligible. Series to be booked by the front desk.",
    )


def _walter(drchen: User, walter: Patient) -> None:
    population = patient_population(patient=walter)
    content = plan_defaults(population=population)
    dose_mg, every_days, follow_up_days = sublingual_defaults(population=population)
    content.scales = "phq9, gad7"
    content.stability_instrument = "phq9"
    content.titration_allowed = True
    content.titration_note = (
        "Start at the older-adult protocol dose; lower by one titration step if blood pressure rises or "
        "dissociation distresses him (PROTOCOL.md section 9: older adults often respond below 0.5 mg/kg)."
    )
    content.psychotherapy_preparation_sessions = 1
    content.psychotherapy_in_session = True
    content.psychotherapy_integration_sessions = 1
    content.after_series = AfterSeries.SUBLINGUAL.value
    content.maintenance_interval_days = None
    content.sublingual_dose_mg = dose_mg
    content.sublingual_every_days = every_days
    content.sublingual_follow_up_days = follow_up_days
    content.follow_up_note = "Home visits coordinated with the hospice team; his daughter drives him."
    services.create_plan(
        by=drchen,
        patient=walter,
        content=content,
        reason="End-of-life pathway: short induction, then sublingual ketamine at home. Awaiting the hospice "
        "team's agreement before signing.",
    )


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Create the demo plans that are missing; return how many rows were made."""
    lena, theo, walter = patients["lena"], patients["theo"], patients["walter"]
    before = _count([lena, theo, walter])
    if not TreatmentPlan.objects.filter(patient=lena).exists():
        _lena(staff["drchen"], lena)
    if not TreatmentPlan.objects.filter(patient=theo).exists():
        _theo(staff["drchen"], theo)
    if not TreatmentPlan.objects.filter(patient=walter).exists():
        _walter(staff["drchen"], walter)
    return _count([lena, theo, walter]) - before
