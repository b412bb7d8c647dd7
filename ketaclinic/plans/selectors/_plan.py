"""Plan reads without a viewer: protocol defaults and bounds, the patient's current plan and its state, and
the booking terms scheduling checks. Not audited: internal checks (the caller audits its own read)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from ketaclinic.core import clock
from ketaclinic.measures.models import InstrumentDefinition
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import population_of
from ketaclinic.plans import rules
from ketaclinic.plans.models import PlanDraft, PlanVersion, SeriesEvent, SessionEvent, TreatmentPlan
from ketaclinic.protocols.selectors import protocol_decimal, protocol_int, protocol_value
from ketaclinic.screening.models import SignedOutcome

ELIGIBLE_OUTCOMES = frozenset({SignedOutcome.ELIGIBLE.value, SignedOutcome.ELIGIBLE_WITH_CONDITIONS.value})

# Protocol keys a plan reads; their versions are stored on each signed version.
PLAN_PROTOCOL_KEYS = (
    "induction_infusion_count",
    "induction_infusion_count_min",
    "induction_infusion_count_max",
    "induction_span_days",
    "induction_infusions_per_week_min",
    "induction_infusions_per_week_max",
    "induction_min_days_between_infusions",
    "maintenance_interval_min_days",
    "maintenance_interval_max_days",
    "maintenance_interval_default_days",
    "dose_standard_mg_per_kg",
    "dose_range_min_mg_per_kg",
    "dose_range_max_mg_per_kg",
    "dose_hard_stop_mg_per_kg",
    "sublingual_dose_default_mg",
    "sublingual_every_days_default",
    "sublingual_every_days_min",
    "sublingual_every_days_max",
    "sublingual_follow_up_days",
    "psychotherapy_preparation_sessions_default",
    "psychotherapy_integration_sessions_default",
    "plan_stability_sustained_weeks",
    "plan_follow_up_after_stability_days",
    "measures_followup_instruments",
    "measures_baseline_instruments",
    "infusion_duration_min",
)


def bounds_for(population: str) -> rules.Bounds:
    """The protocol's limits for a population (falling back to the 'all' entries)."""
    return rules.Bounds(
        infusion_count_min=protocol_int("induction_infusion_count_min", population=population),
        infusion_count_max=protocol_int("induction_infusion_count_max", population=population),
        infusions_per_week_min=protocol_int("induction_infusions_per_week_min", population=population),
        infusions_per_week_max=protocol_int("induction_infusions_per_week_max", population=population),
        maintenance_interval_min_days=protocol_int("maintenance_interval_min_days", population=population),
        maintenance_interval_max_days=protocol_int("maintenance_interval_max_days", population=population),
        dose_range_min_mg_per_kg=protocol_decimal("dose_range_min_mg_per_kg", population=population),
        dose_range_max_mg_per_kg=protocol_decimal("dose_range_max_mg_per_kg", population=population),
        dose_hard_stop_mg_per_kg=protocol_decimal("dose_hard_stop_mg_per_kg", population=population),
        sublingual_every_days_min=protocol_int("sublingual_every_days_min", population=population),
        sublingual_every_days_max=protocol_int("sublingual_every_days_max", population=population),
    )


def protocol_versions_for(population: str) -> dict[str, int]:
    """{key: version} of every protocol value a plan reads, for the signed version's record."""
    return {key: protocol_value(key, population=population).version for key in PLAN_PROTOCOL_KEYS}


def _instrument_keys(key: str) -> list[str]:
    return [part.strip() for part in str(protocol_value(key).value).split(",") if part.strip()]


@dataclass
class PlanInput:
    """The content of a plan as a form or the API gives it (also the defaults of a new plan)."""

    induction_infusion_count: int
    induction_span_days: int
    infusions_per_week_max: int
    min_days_between_infusions: int
    start_dose_mg_per_kg: Decimal
    titration_allowed: bool
    titration_note: str
    scales: str
    scale_schedule_note: str
    psychotherapy_preparation_sessions: int
    psychotherapy_in_session: bool
    psychotherapy_integration_sessions: int
    after_series: str
    maintenance_interval_days: int | None
    sublingual_dose_mg: Decimal | None
    sublingual_every_days: int | None
    sublingual_follow_up_days: int | None
    stability_instrument: str
    stability_sustained_weeks: int
    follow_up_every_days: int
    follow_up_note: str

    def values(self) -> rules.Values:
        return rules.Values(
            induction_infusion_count=self.induction_infusion_count,
            induction_span_days=self.induction_span_days,
            infusions_per_week_max=self.infusions_per_week_max,
            min_days_between_infusions=self.min_days_between_infusions,
            start_dose_mg_per_kg=self.start_dose_mg_per_kg,
            after_series=self.after_series,
            maintenance_interval_days=self.maintenance_interval_days,
            sublingual_dose_mg=self.sublingual_dose_mg,
            sublingual_every_days=self.sublingual_every_days,
        )


CONTENT_FIELDS = tuple(PlanInput.__dataclass_fields__)


def plan_defaults(*, population: str) -> PlanInput:
    """A new plan as the protocol proposes it for a population."""
    follow_up = _instrument_keys("measures_followup_instruments")
    baseline = _instrument_keys("measures_baseline_instruments")
    scales = list(dict.fromkeys(baseline + follow_up))
    return PlanInput(
        induction_infusion_count=protocol_int("induction_infusion_count", population=population),
        induction_span_days=protocol_int("induction_span_days", population=population),
        infusions_per_week_max=protocol_int("induction_infusions_per_week_max", population=population),
        min_days_between_infusions=protocol_int(
            "induction_min_days_between_infusions", population=population
        ),
        start_dose_mg_per_kg=protocol_decimal("dose_standard_mg_per_kg", population=population),
        titration_allowed=False,
        titration_note="",
        scales=", ".join(scales),
        scale_schedule_note=(
            f"{', '.join(follow_up)} before each infusion, 24 hours and 7 days after, and at maintenance "
            "visits (measures schedule)."
        ),
        psychotherapy_preparation_sessions=protocol_int(
            "psychotherapy_preparation_sessions_default", population=population
        ),
        psychotherapy_in_session=False,
        psychotherapy_integration_sessions=protocol_int(
            "psychotherapy_integration_sessions_default", population=population
        ),
        after_series=rules.AfterSeries.MAINTENANCE.value,
        maintenance_interval_days=protocol_int("maintenance_interval_default_days", population=population),
        sublingual_dose_mg=None,
        sublingual_every_days=None,
        sublingual_follow_up_days=None,
        stability_instrument=follow_up[0] if follow_up else "",
        stability_sustained_weeks=protocol_int("plan_stability_sustained_weeks", population=population),
        follow_up_every_days=protocol_int("plan_follow_up_after_stability_days", population=population),
        follow_up_note="",
    )


def sublingual_defaults(*, population: str) -> tuple[Decimal, int, int]:
    """(dose mg, every days, follow-up days) the protocol proposes for sublingual ketamine."""
    return (
        protocol_decimal("sublingual_dose_default_mg", population=population),
        protocol_int("sublingual_every_days_default", population=population),
        protocol_int("sublingual_follow_up_days", population=population),
    )


def content_of(row: PlanDraft | PlanVersion) -> PlanInput:
    return PlanInput(**{name: getattr(row, name) for name in CONTENT_FIELDS})


# --- internal reads (not audited: the caller audits) -------------------------------------------------------


def active_plan(*, patient: Patient) -> TreatmentPlan | None:
    """The patient's plan that has not ended (draft or signed), or None."""
    return (
        TreatmentPlan.objects.filter(patient=patient, end__isnull=True).order_by("-created_at", "-pk").first()
    )


def current_version(*, plan: TreatmentPlan) -> PlanVersion | None:
    return PlanVersion.objects.filter(plan=plan).order_by("-number").first()


def open_draft(*, plan: TreatmentPlan) -> PlanDraft | None:
    return (
        PlanDraft.objects.filter(plan=plan, signed_version__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )


def signed_active_plan(*, patient: Patient) -> tuple[TreatmentPlan, PlanVersion] | None:
    plan = active_plan(patient=patient)
    if plan is None:
        return None
    version = current_version(plan=plan)
    if version is None:
        return None
    return plan, version


def local_date(value: dt.datetime | None, zone: str) -> dt.date | None:
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(zone)).date()


def series_events(*, plan: TreatmentPlan, zone: str) -> list[rules.Event]:
    rows = (
        SeriesEvent.objects.filter(plan=plan)
        .order_by("recorded_at", "pk")
        .values_list("appointment_id", "kind", "starts_at", "reason")
    )
    return [
        rules.Event(appointment_id, rules.SeriesEventKind(kind), local_date(starts_at, zone), reason)
        for appointment_id, kind, starts_at, reason in rows
    ]


def first_infusion_attended_on(*, patient: Patient) -> dt.date | None:
    """The day (in the clinic's zone) of the first infusion the patient attended under their signed, active
    plan; None before the first one (or without a plan). Not audited: an internal read for the caller's
    page, which has read the patient."""
    found = signed_active_plan(patient=patient)
    if found is None:
        return None
    attended = [
        item.on
        for item in rules.appointments(series_events(plan=found[0], zone=patient.clinic.time_zone))
        if item.state == rules.SeriesEventKind.ATTENDED and item.on is not None
    ]
    return min(attended, default=None)


@dataclass(frozen=True)
class PlanState:
    """What the rules say about a signed plan today."""

    appointments: list[rules.Appointment]
    progress: rules.Progress
    phase: rules.Phase
    next_due: rules.NextDue | None
    deviations: list[rules.Deviation]
    next_booked_on: dt.date | None = None


def plan_state(
    *,
    plan: TreatmentPlan,
    version: PlanVersion,
    ended: bool,
    zone: str,
    events: list[rules.Event] | None = None,
) -> PlanState:
    """Progress, phase, next due and deviations of a signed plan (`events` when already read)."""
    items = rules.appointments(series_events(plan=plan, zone=zone) if events is None else events)
    done = rules.progress(items, version.induction_infusion_count)
    phase = rules.current_phase(
        version_phase=version.phase,
        ended=ended,
        series_complete=done.series_complete,
        after_series=version.after_series,
    )
    started = local_date(version.signed_at, zone) or clock.today_in(zone)
    due = (
        None
        if phase == rules.Phase.ENDED
        else rules.next_due(
            today=clock.today_in(zone),
            phase=phase,
            attended=rules.attended_dates(items),
            infusion_count=version.induction_infusion_count,
            span_days=version.induction_span_days,
            min_days_between=version.min_days_between_infusions,
            maintenance_interval_days=version.maintenance_interval_days,
            sublingual_follow_up_days=version.sublingual_follow_up_days,
            phase_started_on=started,
        )
    )
    warnings = (
        []
        if ended
        else rules.deviations(
            phase=phase,
            items=items,
            infusion_count=version.induction_infusion_count,
            span_days=version.induction_span_days,
            due=due,
            today=clock.today_in(zone),
        )
    )
    today = clock.today_in(zone)
    return PlanState(items, done, phase, due, warnings, next_booked_on=rules.next_booked(items, today))


@dataclass(frozen=True)
class SessionState:
    """The plan's psychotherapy sessions: planned (preparation plus integration), progress as the session
    log has it, the label and the next booked session's date."""

    planned: int
    progress: rules.Progress
    label: str
    next_booked_on: dt.date | None
    appointments: list[rules.Appointment]


def session_events(*, plan: TreatmentPlan, zone: str) -> list[rules.Event]:
    rows = (
        SessionEvent.objects.filter(plan=plan)
        .order_by("recorded_at", "pk")
        .values_list("appointment_id", "kind", "starts_at", "reason")
    )
    return [
        rules.Event(appointment_id, rules.SeriesEventKind(kind), local_date(starts_at, zone), reason)
        for appointment_id, kind, starts_at, reason in rows
    ]


def session_state(*, plan: TreatmentPlan, version: PlanVersion, zone: str) -> SessionState:
    """Psychotherapy sessions counted with the infusions' rule (`rules.session_progress`)."""
    items = rules.appointments(session_events(plan=plan, zone=zone))
    planned = version.psychotherapy_preparation_sessions + version.psychotherapy_integration_sessions
    done = rules.session_progress(items, planned)
    return SessionState(
        planned=planned,
        progress=done,
        label=rules.session_label(done),
        next_booked_on=rules.next_booked(items, clock.today_in(zone)),
        appointments=items,
    )


def sessions_for(*, patient: Patient) -> SessionState | None:
    """The psychotherapy sessions of the patient's signed, active plan; None without one. Not audited: the
    caller's page has read the patient (and audited that)."""
    found = signed_active_plan(patient=patient)
    if found is None:
        return None
    plan, version = found
    return session_state(plan=plan, version=version, zone=patient.clinic.time_zone)


# --- booking terms (for scheduling) -----------------------------------------------------------------------


@dataclass(frozen=True)
class BookingTerms:
    """What scheduling needs to book infusions under a signed plan.

    `min_days_between_infusions`: whole calendar days (clinic time zone) between two infusion dates; 1 = not
    on the same day, 2 = not on consecutive days. `max_infusions_per_week`: per Monday-to-Sunday week.
    `infusions_booked` counts appointments booked or attended (not cancelled or no-show)."""

    plan_id: int
    plan_version: int
    phase: str
    infusion_count: int
    infusions_booked: int
    infusions_attended: int
    min_days_between_infusions: int
    max_infusions_per_week: int
    series_span_days: int
    maintenance_interval_min_days: int
    maintenance_interval_max_days: int
    infusion_duration_min: int
    psychotherapy_sessions_planned: int


def booking_terms_for(*, patient: Patient) -> BookingTerms | None:
    """The patient's signed, active plan's booking terms; None when there is no signed active plan
    (booking an infusion must then be refused). Not audited (internal check; the caller audits)."""
    found = signed_active_plan(patient=patient)
    if found is None:
        return None
    plan, version = found
    state = plan_state(plan=plan, version=version, ended=False, zone=patient.clinic.time_zone)
    population = version.population
    return BookingTerms(
        plan_id=plan.pk,
        plan_version=version.number,
        phase=state.phase.value,
        infusion_count=version.induction_infusion_count,
        infusions_booked=state.progress.booked_or_attended,
        infusions_attended=state.progress.attended,
        min_days_between_infusions=version.min_days_between_infusions,
        max_infusions_per_week=version.infusions_per_week_max,
        series_span_days=version.induction_span_days,
        maintenance_interval_min_days=protocol_int("maintenance_interval_min_days", population=population),
        maintenance_interval_max_days=protocol_int("maintenance_interval_max_days", population=population),
        infusion_duration_min=protocol_int("infusion_duration_min", population=population),
        psychotherapy_sessions_planned=(
            version.psychotherapy_preparation_sessions + version.psychotherapy_integration_sessions
        ),
    )


def patient_population(*, patient: Patient) -> str:
    return population_of(patient=patient)


# --- series facts for clinic reports (analytics) ----------------------------------------------------------


@dataclass(frozen=True)
class PatientSeries:
    """One patient's induction series as the plan's log has it: the dates of attended infusions (clinic
    zone), infusions booked ahead of today, and the series length of their latest signed plan."""

    attended_on: list[dt.date]
    booked_ahead: int
    infusion_count: int


def series_for_patients(*, patient_ids: list[int]) -> dict[int, PatientSeries]:
    """Series facts for every patient with a signed plan, in three queries whatever their number. Not
    audited: for aggregate reports whose caller records the report it shows."""
    versions = (
        PlanVersion.objects.filter(plan__patient_id__in=patient_ids)
        .order_by("plan__patient_id", "signed_at", "pk")
        .values_list("plan__patient_id", "induction_infusion_count")
    )
    counts: dict[int, int] = dict(versions)  # the latest signed version wins
    events: dict[int, list[rules.Event]] = {}
    rows = (
        SeriesEvent.objects.filter(plan__patient_id__in=list(counts))
        .order_by("recorded_at", "pk")
        .values_list(
            "plan__patient_id", "plan__clinic__time_zone", "appointment_id", "kind", "starts_at", "reason"
        )
    )
    zones: dict[int, str] = {}
    for patient_id, zone, appointment_id, kind, starts_at, reason in rows:
        zones[patient_id] = zone
        events.setdefault(patient_id, []).append(
            rules.Event(appointment_id, rules.SeriesEventKind(kind), local_date(starts_at, zone), reason)
        )
    result = {}
    for patient_id, infusion_count in counts.items():
        items = rules.appointments(events.get(patient_id, []))
        # "Ahead" counts from the clinic's own calendar date, not UTC's.
        today = clock.today_in(zones[patient_id]) if patient_id in zones else clock.now().date()
        ahead = sum(
            1 for item in items if item.state == rules.SeriesEventKind.BOOKED and item.on and item.on >= today
        )
        result[patient_id] = PatientSeries(rules.attended_dates(items), ahead, infusion_count)
    return result


def scale_choices(*, clinic_id: int, keep: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The scales a plan may name for a clinic, as (key, "PHQ-9 · Patient Health Questionnaire") by short
    name: the shipped instruments and the clinic's own, newest version each. A key in `keep` (the protocol's
    default or a signed plan's) that no instrument has any more stays choosable under its key, so editing a
    plan never drops it silently."""
    names: dict[str, tuple[int, str]] = {}
    for key, version, short_name, name in (
        InstrumentDefinition.objects.filter(Q(clinic__isnull=True) | Q(clinic_id=clinic_id))
        .order_by("key", "version")
        .values_list("key", "version", "short_name", "name")
    ):
        names[key] = (version, f"{short_name} · {name}")
    choices = {key: label for key, (_, label) in names.items()}
    for key in keep:
        choices.setdefault(key, key)
    return sorted(choices.items(), key=lambda item: item[1].casefold())
