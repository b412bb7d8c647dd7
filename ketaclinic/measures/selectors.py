"""Reads of measures, scoped to the viewer's clinics and permissions; reads of patient data are audited."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from ketaclinic.accounts.access import require_any
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read, record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.measures.charts import Chart, build_chart
from ketaclinic.measures.models import (
    Administration,
    Alert,
    AlertAcknowledgement,
    Context,
    InfusionGiven,
    InstrumentDefinition,
    MeasureRequest,
)
from ketaclinic.measures.rules import outcomes, schedule
from ketaclinic.measures.rules.definitions import Definition, Use
from ketaclinic.measures.services import definition_of, fill_path
from ketaclinic.patients.models import Patient
from ketaclinic.patients.rules import age_in_years
from ketaclinic.patients.selectors import patient_for
from ketaclinic.protocols.selectors import protocol_bool, protocol_int, protocol_value

_ANY_MEASURES = (Perm.VIEW_MEASURES, Perm.RECORD_MEASURES, Perm.SEND_MEASURE_LINK, Perm.MANAGE_INSTRUMENTS)


def _list_read(viewer: Who, object_type: ObjectType, summary: str, action: str = Action.LIST) -> None:
    record_read(by=viewer, action=action, object_type=object_type, summary=summary)


def _patients_list_read(
    viewer: Who, object_type: ObjectType, summary: str, patients: Iterable[Patient]
) -> None:
    """A list that names patients: one entry for the list and one per patient, in one insert."""
    record_list_read(
        by=viewer,
        object_type=object_type,
        patients=[PatientShown(patient.pk, patient.record_number, patient.clinic_id) for patient in patients],
        summary=summary,
    )


# Instruments ---------------------------------------------------------------------------------------------


def _visible_instruments(viewer: Who) -> QuerySet[InstrumentDefinition]:
    return InstrumentDefinition.objects.filter(Q(clinic__isnull=True) | Q(clinic__in=clinics_for(viewer)))


def instruments_for(*, viewer: Who) -> list[InstrumentDefinition]:
    """The current (highest) version of every instrument the viewer's clinics can use, by name."""
    require_any(viewer, *_ANY_MEASURES)
    latest: dict[tuple[int | None, str], InstrumentDefinition] = {}
    for instrument in _visible_instruments(viewer).select_related("clinic").order_by("key", "-version"):
        latest.setdefault((instrument.clinic_id, instrument.key), instrument)
    return sorted(latest.values(), key=lambda instrument: instrument.short_name.casefold())


def instrument_for(*, viewer: Who, instrument_id: int) -> InstrumentDefinition:
    require_any(viewer, *_ANY_MEASURES)
    instrument = _visible_instruments(viewer).select_related("clinic").filter(pk=instrument_id).first()
    if instrument is None:
        raise NotFound("No such instrument.")
    return instrument


def current_instrument(*, key: str, clinic_id: int) -> InstrumentDefinition | None:
    """The newest version of `key` usable at a clinic (its own, or shipped)."""
    return (
        InstrumentDefinition.objects.filter(Q(clinic__isnull=True) | Q(clinic_id=clinic_id), key=key)
        .order_by("-version")
        .first()
    )


def definition_for(instrument: InstrumentDefinition) -> Definition:
    return definition_of(instrument)[0]


def administration_for(*, viewer: Who, patient: Patient, administration_id: int) -> Administration:
    require_any(viewer, Perm.VIEW_MEASURES, Perm.RECORD_MEASURES)
    found = (
        Administration.objects.select_related("instrument")
        .filter(patient=patient, pk=administration_id)
        .first()
    )
    if found is None:
        raise NotFound("No such result for this patient.")
    return found


# A patient's measures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdministrationRow:
    administration: Administration
    corrected: bool
    percent_change: Decimal | None
    responded: bool | None
    remitted: bool | None
    is_baseline: bool
    alert_count: int


@dataclass(frozen=True)
class InstrumentCourse:
    key: str
    short_name: str
    definition: Definition
    course: outcomes.Course
    chart: Chart
    response_threshold: Decimal | None
    title: str
    description: str

    @property
    def latest_change(self) -> Decimal | None:
        """Percent change of the latest score from baseline (None without a follow-up)."""
        rows = self.course.rows
        return rows[-1].percent_change if len(rows) > 1 else None


@dataclass(frozen=True)
class DueRow:
    instrument_name: str
    instrument_key: str
    context_label: str
    due_at: dt.datetime
    state: schedule.DueState
    request_id: int | None


@dataclass(frozen=True)
class PatientMeasures:
    patient: Patient
    rows: list[AdministrationRow]
    courses: list[InstrumentCourse]
    open_alerts: list[Alert]
    open_requests: list[MeasureRequest]
    due: list[DueRow]
    infusion_dates: list[dt.datetime]


def _live_infusions() -> QuerySet[InfusionGiven]:
    return InfusionGiven.objects.filter(withdrawal__isnull=True)


def infusion_dates_for(*, patient: Patient) -> list[dt.datetime]:
    """When the patient's infusions started (as noted by the infusions app, withdrawn ones left out), oldest
    first, for the graphs' markers and the schedule's anchors. One query. Not audited: callers audit."""
    return list(
        _live_infusions()
        .filter(patient=patient)
        .order_by("started_at", "pk")
        .values_list("started_at", flat=True)
    )


def _infusion_dates_by_patient(patients: Any) -> dict[int, list[dt.datetime]]:
    """`infusion_dates_for` of many patients in one query."""
    found: dict[int, list[dt.datetime]] = defaultdict(list)
    for patient_id, started_at in (
        _live_infusions()
        .filter(patient__in=patients)
        .order_by("started_at", "pk")
        .values_list("patient_id", "started_at")
    ):
        found[patient_id].append(started_at)
    return found


def _offsets() -> schedule.Offsets:
    return schedule.Offsets(
        post_infusion_early=dt.timedelta(hours=protocol_int("measures_post_infusion_early_hours")),
        post_infusion_late=dt.timedelta(days=protocol_int("measures_post_infusion_late_days")),
        overdue_after=dt.timedelta(hours=protocol_int("measures_overdue_after_hours")),
    )


def _keys(protocol_key: str) -> list[str]:
    return [part.strip() for part in str(protocol_value(protocol_key).value).split(",") if part.strip()]


@dataclass(frozen=True)
class _ScheduleInputs:
    offsets: schedule.Offsets
    baseline_keys: list[str]
    follow_up_keys: list[str]
    names: dict[str, str]


def _schedule_inputs(viewer: Who) -> _ScheduleInputs:
    names = {instrument.key: instrument.short_name for instrument in _visible_instruments(viewer)}
    return _ScheduleInputs(
        _offsets(), _keys("measures_baseline_instruments"), _keys("measures_followup_instruments"), names
    )


def _due_for(
    inputs: _ScheduleInputs,
    done: list[tuple[str, str, dt.datetime]],
    requests: list[MeasureRequest],
    infusions: list[dt.datetime],
    now: dt.datetime,
) -> list[DueRow]:
    anchors: list[schedule.Anchor] = []
    assessment = [at for _key, context, at in done if context == Context.ASSESSMENT]
    first = min(assessment or [at for _key, _context, at in done], default=None)
    if first is not None:
        anchors.append(schedule.Anchor(schedule.AnchorKind.ASSESSMENT, first))
    anchors += [schedule.Anchor(schedule.AnchorKind.INFUSION, at) for at in infusions]
    anchors += [
        schedule.Anchor(
            schedule.AnchorKind.REQUEST, request.due_at, request.instrument.key, request.context, request.pk
        )
        for request in requests
    ]
    due = schedule.due_scales(
        anchors=anchors,
        done=[schedule.Done(key, context, at) for key, context, at in done],
        baseline_keys=inputs.baseline_keys,
        follow_up_keys=inputs.follow_up_keys,
        offsets=inputs.offsets,
        now=now,
    )
    labels = dict(Context.choices)
    return [
        DueRow(
            instrument_name=inputs.names.get(item.instrument_key, item.instrument_key),
            instrument_key=item.instrument_key,
            context_label=str(labels.get(item.context, item.context)),
            due_at=item.due_at,
            state=item.state,
            request_id=item.request_id,
        )
        for item in due
    ]


def _open_requests(patients: Any) -> QuerySet[MeasureRequest]:
    return (
        MeasureRequest.objects.filter(patient__in=patients, expires_at__gte=clock.now())
        .exclude(Exists(Administration.objects.filter(request=OuterRef("pk"))))
        .select_related("instrument", "patient")
    )


def _open_alerts() -> QuerySet[Alert]:
    return (
        Alert.objects.exclude(Exists(AlertAcknowledgement.objects.filter(alert=OuterRef("pk"))))
        .select_related("patient__clinic", "administration__instrument", "clinician")
        .order_by("-raised_at", "-pk")
    )


def _plain(value: Decimal | None) -> str:
    """18.00 as '18', 12.50 as '12.5'."""
    if value is None:
        return "-"
    return f"{value.normalize():f}"


def _course_for(
    short_name: str,
    definition: Definition,
    administrations: list[Administration],
    infusions: list[dt.datetime],
    zone: ZoneInfo,
) -> InstrumentCourse:
    criteria = definition.outcome
    points = [outcomes.Point(item.pk, item.administered_at, item.total) for item in administrations]
    course = outcomes.course(points, criteria)
    threshold = None
    if course.baseline is not None and criteria.response_reduction_percent is not None:
        threshold = course.baseline.total * (100 - criteria.response_reduction_percent) / 100
    responded = {row.point.administration_id: bool(row.responded) for row in course.rows}
    chart = build_chart(
        points=[(point.administered_at, point.total, responded[point.administration_id]) for point in points],
        bands=[(band.label, band.from_score) for band in definition.bands],
        min_total=definition.min_total,
        max_total=definition.max_total,
        baseline=course.baseline.total if course.baseline else None,
        response_threshold=threshold,
        infusion_dates=infusions,
        zone=zone,
    )
    latest = course.rows[-1].point.total if course.rows else None
    description = (
        f"{len(points)} score{'' if len(points) == 1 else 's'} from "
        f"{points[0].administered_at.astimezone(zone):%Y-%m-%d} "
        f"to {points[-1].administered_at.astimezone(zone):%Y-%m-%d}; "
        f"baseline {_plain(course.baseline.total if course.baseline else None)}, latest {_plain(latest)}."
        if points
        else "No scores."
    )
    return InstrumentCourse(
        key=definition.key,
        short_name=short_name,
        definition=definition,
        course=course,
        chart=chart,
        response_threshold=threshold.quantize(Decimal("0.1")) if threshold is not None else None,
        title=f"{short_name} over time",
        description=description,
    )


def patient_measures(*, viewer: Who, patient_id: int) -> PatientMeasures:
    """A patient's scales: every administration (corrected ones marked), a course and graph per instrument
    (corrected results left out), open alerts, open requests and what is due. The number of queries does
    not grow with the length of the history."""
    require_any(viewer, Perm.VIEW_MEASURES)
    patient = patient_for(viewer=viewer, patient_id=patient_id, audit_as=ObjectType.MEASURES)
    administrations = list(
        Administration.objects.filter(patient=patient)
        .select_related("instrument", "entered_by")
        .order_by("administered_at", "pk")
    )
    corrected_ids = {item.corrects_id for item in administrations if item.corrects_id}
    alert_counts: dict[int, int] = defaultdict(int)
    for administration_id in Alert.objects.filter(patient=patient).values_list(
        "administration_id", flat=True
    ):
        alert_counts[administration_id] += 1
    infusions = infusion_dates_for(patient=patient)
    live_by_key: dict[str, list[Administration]] = defaultdict(list)
    newest_instrument: dict[str, InstrumentDefinition] = {}
    for item in administrations:
        if item.pk in corrected_ids:
            continue
        live_by_key[item.instrument.key].append(item)
        current = newest_instrument.get(item.instrument.key)
        if current is None or item.instrument.version > current.version:
            newest_instrument[item.instrument.key] = item.instrument
    courses = []
    row_facts: dict[int, outcomes.OutcomeRow] = {}
    for key, items in live_by_key.items():
        instrument = newest_instrument[key]
        definition = definition_for(instrument)
        if definition.use not in (Use.OUTCOME, Use.SESSION):
            continue
        built = _course_for(
            instrument.short_name, definition, items, infusions, ZoneInfo(patient.clinic.time_zone)
        )
        courses.append(built)
        row_facts.update({row.point.administration_id: row for row in built.course.rows})
    courses.sort(key=lambda item: item.short_name.casefold())
    rows = []
    for item in reversed(administrations):
        facts = row_facts.get(item.pk)
        rows.append(
            AdministrationRow(
                administration=item,
                corrected=item.pk in corrected_ids,
                percent_change=facts.percent_change if facts else None,
                responded=facts.responded if facts else None,
                remitted=facts.remitted if facts else None,
                is_baseline=facts.is_baseline if facts else False,
                alert_count=alert_counts[item.pk],
            )
        )
    requests = list(_open_requests([patient.pk]).order_by("due_at"))
    due = _due_for(
        _schedule_inputs(viewer),
        [
            (item.instrument.key, item.context, item.administered_at)
            for item in administrations
            if item.pk not in corrected_ids
        ],
        requests,
        infusions,
        clock.now(),
    )
    return PatientMeasures(
        patient=patient,
        rows=rows,
        courses=courses,
        open_alerts=list(_open_alerts().filter(patient=patient)),
        open_requests=requests,
        due=due,
        infusion_dates=infusions,
    )


# Clinic-wide lists ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicDueRow:
    patient: Patient
    due: DueRow


def due_scales_for_clinics(*, viewer: Who) -> list[ClinicDueRow]:
    """Due, overdue and upcoming scales of every patient of the viewer's clinics, overdue first."""
    require_any(viewer, Perm.VIEW_MEASURES)
    patients = Patient.objects.filter(clinic__in=clinics_for(viewer))
    done: dict[int, list[tuple[str, str, dt.datetime]]] = defaultdict(list)
    corrected = set(
        Administration.objects.filter(patient__in=patients, corrects__isnull=False).values_list(
            "corrects_id", flat=True
        )
    )
    for pk, patient_id, key, context, at in Administration.objects.filter(patient__in=patients).values_list(
        "pk", "patient_id", "instrument__key", "context", "administered_at"
    ):
        if pk not in corrected:
            done[patient_id].append((key, context, at))
    requests: dict[int, list[MeasureRequest]] = defaultdict(list)
    for request in _open_requests(patients):
        requests[request.patient_id].append(request)
    infusions = _infusion_dates_by_patient(patients)
    involved = set(done) | set(requests) | set(infusions)
    inputs = _schedule_inputs(viewer)
    now = clock.now()
    rows = []
    for patient in Patient.objects.filter(pk__in=involved).select_related("clinic"):
        for item in _due_for(inputs, done[patient.pk], requests[patient.pk], infusions[patient.pk], now):
            rows.append(ClinicDueRow(patient, item))
    order = {schedule.DueState.OVERDUE: 0, schedule.DueState.DUE: 1, schedule.DueState.UPCOMING: 2}
    rows.sort(key=lambda row: (order[row.due.state], row.due.due_at, row.patient.legal_family_name))
    _patients_list_read(
        viewer, ObjectType.DUE_SCALES, f"due scales: {len(rows)} row(s)", (r.patient for r in rows)
    )
    return rows


def open_alerts_for(*, viewer: Who) -> list[Alert]:
    """Unacknowledged alerts of the viewer's clinics, newest first."""
    require_any(viewer, Perm.VIEW_MEASURES)
    alerts = list(_open_alerts().filter(patient__clinic__in=clinics_for(viewer)))
    _patients_list_read(
        viewer, ObjectType.MEASURE_ALERTS, f"open alerts: {len(alerts)}", (a.patient for a in alerts)
    )
    return alerts


def home_alerts_for(*, viewer: Who) -> list[Alert]:
    """The open alerts a clinician must see on their home page: their own patients', and those of patients
    without a treating clinician at their clinics. Empty for anyone who cannot acknowledge alerts."""
    if not can(viewer, Perm.ACKNOWLEDGE_ALERT):
        return []
    alerts = list(
        _open_alerts().filter(
            Q(clinician=viewer) | Q(clinician__isnull=True), patient__clinic__in=clinics_for(viewer)
        )
    )
    if alerts:
        _patients_list_read(
            viewer,
            ObjectType.MEASURE_ALERTS,
            f"home page: {len(alerts)} open alert(s)",
            (a.patient for a in alerts),
        )
    return alerts


def alert_for(*, viewer: Who, alert_id: int) -> Alert:
    require_any(viewer, Perm.VIEW_MEASURES)
    alert = (
        Alert.objects.select_related("patient__clinic", "administration__instrument", "clinician")
        .filter(pk=alert_id, patient__clinic__in=clinics_for(viewer))
        .first()
    )
    if alert is None:
        raise NotFound("No such alert.")
    record_read(
        by=viewer,
        object_type=ObjectType.MEASURE_ALERT,
        object_id=alert.pk,
        patient_id=alert.patient_id,
        patient_record_number=alert.patient.record_number,
        clinic_id=alert.patient.clinic_id,
    )
    return alert


def acknowledgement_of(alert: Alert) -> AlertAcknowledgement | None:
    return AlertAcknowledgement.objects.select_related("acknowledged_by").filter(alert=alert).first()


def alerts_of(*, viewer: Who, open_only: bool) -> list[tuple[Alert, AlertAcknowledgement | None]]:
    """For the API: the viewer's clinics' alerts (open ones only, or all), each with its acknowledgement."""
    require_any(viewer, Perm.VIEW_MEASURES)
    found = (
        Alert.objects.filter(patient__clinic__in=clinics_for(viewer))
        .select_related("patient", "administration__instrument", "clinician", "acknowledgement")
        .order_by("-raised_at", "-pk")
    )
    if open_only:
        found = found.exclude(Exists(AlertAcknowledgement.objects.filter(alert=OuterRef("pk"))))
    pairs = [(alert, getattr(alert, "acknowledgement", None)) for alert in found[:500]]
    _patients_list_read(
        viewer, ObjectType.MEASURE_ALERTS, f"alerts (api): {len(pairs)}", (a.patient for a, _ in pairs)
    )
    return pairs


# Clinic outcomes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstrumentOutcomes:
    key: str
    short_name: str
    response_rule: str
    remission_rule: str
    cells: list[outcomes.RateCell]
    total: outcomes.RateCell


@dataclass(frozen=True)
class InstrumentCourses:
    """Every patient's course on one outcome instrument, over the viewer's clinics."""

    key: str
    short_name: str
    response_rule: str
    remission_rule: str
    courses: list[tuple[Patient, outcomes.Course]]


def outcome_courses(*, viewer: Who) -> list[InstrumentCourses]:
    """Each patient's course (baseline to latest, corrected results left out) on each outcome instrument with
    a response rule, over the viewer's clinics; sorted by instrument name. Needs VIEW_OUTCOMES. Not audited
    here: the callers record the list they show."""
    require_any(viewer, Perm.VIEW_OUTCOMES)
    patients = {patient.pk: patient for patient in Patient.objects.filter(clinic__in=clinics_for(viewer))}
    items = list(
        Administration.objects.filter(patient_id__in=patients)
        .exclude(correction__isnull=False)
        .select_related("instrument")
        .order_by("administered_at", "pk")
    )
    by_instrument: dict[str, dict[int, list[Administration]]] = defaultdict(lambda: defaultdict(list))
    newest: dict[str, InstrumentDefinition] = {}
    for item in items:
        by_instrument[item.instrument.key][item.patient_id].append(item)
        if item.instrument.key not in newest or item.instrument.version > newest[item.instrument.key].version:
            newest[item.instrument.key] = item.instrument
    results = []
    for key, per_patient in by_instrument.items():
        definition = definition_for(newest[key])
        criteria = definition.outcome
        if definition.use is not Use.OUTCOME or criteria.response_reduction_percent is None:
            continue
        courses = [
            (
                patients[patient_id],
                outcomes.course(
                    [outcomes.Point(a.pk, a.administered_at, a.total) for a in administered], criteria
                ),
            )
            for patient_id, administered in per_patient.items()
        ]
        remission = (
            f"total below {criteria.remission_below}"
            if criteria.remission_below is not None
            else f"total at most {criteria.remission_at_most}"
            if criteria.remission_at_most is not None
            else "none defined"
        )
        results.append(
            InstrumentCourses(
                key=key,
                short_name=newest[key].short_name,
                response_rule=f"at least {criteria.response_reduction_percent}% below baseline",
                remission_rule=remission,
                courses=courses,
            )
        )
    results.sort(key=lambda item: item.short_name.casefold())
    return results


def clinic_outcomes(*, viewer: Who) -> list[InstrumentOutcomes]:
    """Response and remission by age group for each outcome instrument with a response rule, over the
    viewer's clinics. A patient's status is their latest score against their baseline; patients with a
    baseline and no later score stay in the denominator (shown as 'no follow-up')."""
    majority = protocol_int("age_of_majority_years")
    older = protocol_int("older_adult_from_age_years")
    results = []
    for instrument in outcome_courses(viewer=viewer):
        grouped = []
        for patient, course in instrument.courses:
            baseline_date = course.baseline.administered_at.date() if course.baseline else clock.now().date()
            group = outcomes.age_group(
                age_in_years(patient.date_of_birth, baseline_date),
                age_of_majority_years=majority,
                older_adult_from_age_years=older,
            )
            grouped.append((group, course))
        cells = outcomes.rate_cells(grouped)
        everyone = outcomes.Rates.of([course for _group, course in grouped])
        total = outcomes.RateCell(
            group=outcomes.AgeGroup.ADULT,
            with_baseline=everyone.with_baseline,
            with_follow_up=everyone.with_follow_up,
            responders=everyone.responders,
            remitters=everyone.remitters,
        )
        results.append(
            InstrumentOutcomes(
                key=instrument.key,
                short_name=instrument.short_name,
                response_rule=instrument.response_rule,
                remission_rule=instrument.remission_rule,
                cells=cells,
                total=total,
            )
        )
    _list_read(viewer, ObjectType.CLINIC_OUTCOMES, f"outcomes of {len(results)} instrument(s)")
    return results


# The portal -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnDueScale:
    patient: Patient
    instrument_name: str
    due_at: dt.datetime
    overdue: bool
    fill_path: str


def own_due_scales(*, user: Any, patients: list[Patient]) -> list[OwnDueScale]:
    """Open questionnaire requests of the records a patient or guardian may see (the caller passes them,
    from patients.selectors.own_patient_records), soonest first, each with its fill-in address."""
    if not can(user, Perm.VIEW_OWN_RECORD) or not patients:
        return []
    grace = dt.timedelta(hours=protocol_int("measures_overdue_after_hours"))
    now = clock.now()
    return [
        OwnDueScale(
            patient=request.patient,
            instrument_name=request.instrument.name,
            due_at=request.due_at,
            overdue=now > request.due_at + grace,
            fill_path=fill_path(request),
        )
        for request in _open_requests([patient.pk for patient in patients]).order_by("due_at", "pk")
    ]


def own_outcome_courses(*, user: Any, patient: Patient) -> list[InstrumentCourse]:
    """The outcome graphs of a record a patient or guardian may see (the caller has established that, from
    patients.selectors.own_patient_records): the same courses staff see, corrected results left out."""
    if not can(user, Perm.VIEW_OWN_RECORD):
        raise PermissionDenied()
    administrations = list(
        Administration.objects.filter(patient=patient)
        .select_related("instrument")
        .order_by("administered_at", "pk")
    )
    corrected_ids = {item.corrects_id for item in administrations if item.corrects_id}
    infusions = infusion_dates_for(patient=patient)
    live_by_key: dict[str, list[Administration]] = defaultdict(list)
    newest_instrument: dict[str, InstrumentDefinition] = {}
    for item in administrations:
        if item.pk in corrected_ids:
            continue
        live_by_key[item.instrument.key].append(item)
        current = newest_instrument.get(item.instrument.key)
        if current is None or item.instrument.version > current.version:
            newest_instrument[item.instrument.key] = item.instrument
    courses = []
    for key, items in live_by_key.items():
        definition = definition_for(newest_instrument[key])
        if definition.use == Use.OUTCOME:
            zone = ZoneInfo(patient.clinic.time_zone)
            courses.append(_course_for(newest_instrument[key].short_name, definition, items, infusions, zone))
    return sorted(courses, key=lambda item: item.short_name.casefold())


def crisis_resources_text() -> str:
    return str(protocol_value("crisis_resources_text").value)


def severe_band_alerts_enabled() -> bool:
    return protocol_bool("measures_severe_band_alert")


def patient_for_recording(*, viewer: Who, patient_id: int) -> Patient:
    """A patient the viewer may record scales for (PermissionDenied first, then NotFound)."""
    require_any(viewer, Perm.RECORD_MEASURES)
    return patient_for(viewer=viewer, patient_id=patient_id, audit_as=ObjectType.MEASURES)


def patient_for_sending(*, viewer: Who, patient_id: int) -> Patient:
    """A patient the viewer may send a questionnaire to (PermissionDenied first, then NotFound)."""
    require_any(viewer, Perm.SEND_MEASURE_LINK)
    return patient_for(viewer=viewer, patient_id=patient_id, audit_as=ObjectType.MEASURES)


@dataclass(frozen=True)
class ResponseSoFar:
    """A patient's change on one instrument: baseline, latest follow-up and the reduction between them."""

    instrument_key: str
    instrument_name: str
    baseline: Decimal
    latest: Decimal
    latest_at: dt.datetime
    reduction_percent: Decimal


def response_so_far(*, patient: Patient, instrument_keys: tuple[str, ...]) -> ResponseSoFar | None:
    """The reduction from baseline to the latest follow-up on the first of `instrument_keys` the patient has
    both for (corrected results left out), or None. Not audited: an internal read for a caller that audits
    its own (e.g. the dosing titration page). Two queries whatever the history's length."""
    items = list(
        Administration.objects.filter(patient=patient, instrument__key__in=instrument_keys)
        .exclude(correction__isnull=False)
        .select_related("instrument")
        .order_by("administered_at", "pk")
    )
    for key in instrument_keys:
        mine = [item for item in items if item.instrument.key == key]
        if not mine:
            continue
        definition, _snapshot = definition_of(
            max((item.instrument for item in mine), key=lambda i: i.version)
        )
        points = [outcomes.Point(item.pk, item.administered_at, item.total) for item in mine]
        course = outcomes.course(points, definition.outcome)
        if course.baseline is None or course.latest_follow_up is None:
            continue
        change = outcomes.percent_change(course.baseline.total, course.latest_follow_up.total)
        if change is None:
            continue
        return ResponseSoFar(
            instrument_key=key,
            instrument_name=mine[-1].instrument.short_name,
            baseline=course.baseline.total,
            latest=course.latest_follow_up.total,
            latest_at=course.latest_follow_up.administered_at,
            reduction_percent=max(-change, Decimal(0)),
        )
    return None


# The infusion check-in ------------------------------------------------------------------------------------


def pre_infusion_scales_missing(*, patient: Patient, on: dt.date) -> tuple[str, ...]:
    """The short names (e.g. 'PHQ-9') of the protocol's before-infusion scales
    (`measures_followup_instruments`, in the protocol's order) the patient has no administration of, in any
    context and corrected results left out, on the clinic-local day `on`; empty when all were given. Two
    queries (one more when `patient.clinic` is not loaded). Not audited: the caller audits its own read."""
    keys = _keys("measures_followup_instruments")
    zone = ZoneInfo(patient.clinic.time_zone)
    # Midnight to midnight on the clinic's wall clock (23 or 25 hours on a daylight-saving change).
    day_starts = dt.datetime.combine(on, dt.time.min, tzinfo=zone)
    day_ends = dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    given_that_day = Administration.objects.filter(
        patient=patient,
        instrument__key=OuterRef("key"),
        administered_at__gte=day_starts,
        administered_at__lt=day_ends,
    ).exclude(correction__isnull=False)
    names: dict[str, str] = {}
    given: set[str] = set()
    for key, short_name, was_given in (
        InstrumentDefinition.objects.filter(
            Q(clinic__isnull=True) | Q(clinic_id=patient.clinic_id), key__in=keys
        )
        .annotate(was_given=Exists(given_that_day))
        .order_by("key", "-version")
        .values_list("key", "short_name", "was_given")
    ):
        names.setdefault(key, short_name)
        if was_given:
            given.add(key)
    return tuple(names.get(key, key) for key in keys if key not in given)
