"""Reads of the infusion visit, access-checked and audited: one visit (for a viewer, or for a bedside-monitor
gateway), a patient's visits, the active visits of a board, an alert or a checklist of the viewer's
clinics."""

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from ketaclinic.accounts.access import require, require_in_clinic
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.infusions.models import (
    CheckIn,
    CorrectableRow,
    EnteredInError,
    InfusionVisit,
    VitalAlert,
)
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

# The board shows visits opened within this window and not yet discharged (a visit left open overnight by
# mistake stays visible for a day, then drops off the board but not out of the record).
ACTIVE_WINDOW = dt.timedelta(hours=24)


def visits_queryset() -> QuerySet[InfusionVisit]:
    return InfusionVisit.objects.select_related(
        "patient", "clinic", "chair", "dose_order", "appointment", "discharge"
    )


def visit_for(*, viewer: Who, visit_id: int, audit: bool = True) -> InfusionVisit:
    """One visit in the viewer's clinics (NotFound otherwise, revealing nothing); the read is audited."""
    require(viewer, Perm.VIEW_INFUSION)
    visit = visits_queryset().filter(pk=visit_id, clinic__in=clinics_for(viewer)).first()
    if visit is None:
        raise NotFound("No such infusion visit in your clinics.")
    if audit:
        # A visit is opened at its patient's clinic: the patient's row names the visit's clinic.
        record_patient_read(
            by=viewer, patient=visit.patient, object_type=ObjectType.INFUSION_VISIT, object_id=visit.pk
        )
    return visit


def visit_for_gateway(*, gateway: Any, visit_id: int) -> InfusionVisit:
    """One visit of the gateway's clinics a bedside-monitor gateway may post readings to (NotFound otherwise).
    Not a read of the record: the gateway gets only what it needs to write, so nothing is audited here."""
    require(gateway, Perm.RECORD_DEVICE_VITALS)
    visit = visits_queryset().filter(pk=visit_id, clinic__in=clinics_for(gateway)).first()
    if visit is None:
        raise NotFound("No such infusion visit in your clinics.")
    return visit


def visits_for_patient(*, viewer: Who, patient: Patient) -> list[InfusionVisit]:
    """The patient's visits, newest first (audited as one read)."""
    require_in_clinic(viewer, Perm.VIEW_INFUSION, patient.clinic_id, what="patient")
    visits = list(visits_queryset().filter(patient=patient).order_by("-opened_at"))
    record_patient_read(
        by=viewer, patient=patient, action=Action.LIST, object_type=ObjectType.INFUSION_VISITS
    )
    return visits


def open_visit_for_patient(*, patient: Patient) -> InfusionVisit | None:
    """The patient's visit that is not discharged yet, if any (an internal check: not audited)."""
    return visits_queryset().filter(patient=patient, discharge__isnull=True).first()


def todays_infusion_appointment(*, patient: Patient) -> Appointment | None:
    """The patient's infusion appointment today (clinic time) that has no visit yet, if any."""
    day = clock.today_in(patient.clinic.time_zone)
    zone = ZoneInfo(patient.clinic.time_zone)
    starts = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return (
        Appointment.objects.filter(
            patient=patient,
            kind=AppointmentKind.INFUSION,
            status__in=(AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN),
            starts_at__gte=starts,
            starts_at__lt=starts + dt.timedelta(days=1),
            infusion_visit__isnull=True,
        )
        .select_related("chair")
        .order_by("starts_at")
        .first()
    )


def active_visits(*, clinic_ids: list[int] | tuple[int, ...] | set[int]) -> list[InfusionVisit]:
    """Visits of these clinics opened within the last day and not discharged, oldest first, with what a list
    of chairs shows (patient, chair). Not audited: the caller (the board) audits its own read.

    The protocol snapshot is left unread until used: it is by far the largest column (the whole protocol, as
    JSON), and decoding it for every chair was most of the board's cost."""
    since = clock.now() - ACTIVE_WINDOW
    return list(
        InfusionVisit.objects.select_related("patient", "chair")
        .defer("protocol_snapshot")
        .filter(clinic_id__in=clinic_ids, discharge__isnull=True, opened_at__gte=since)
        .order_by("opened_at", "pk")
    )


def withdrawn_ids(visit: InfusionVisit) -> dict[str, set[int]]:
    """Ids withdrawn as entered in error, by row type (one query)."""
    found: dict[str, set[int]] = {row_type: set() for row_type in CorrectableRow.values}
    for row_type, row_id in EnteredInError.objects.filter(visit=visit).values_list("row_type", "row_id"):
        found[row_type].add(row_id)
    return found


def alert_for(*, viewer: Who, alert_id: int) -> VitalAlert:
    require(viewer, Perm.VIEW_INFUSION)
    alert = (
        VitalAlert.objects.select_related("visit__patient", "visit__clinic", "reading__visit")
        .filter(pk=alert_id, visit__clinic__in=clinics_for(viewer))
        .first()
    )
    if alert is None:
        raise NotFound("No such alert in your clinics.")
    return alert


def check_in_for(*, viewer: Who, check_in_id: int) -> CheckIn:
    require(viewer, Perm.VIEW_INFUSION)
    check_in = (
        CheckIn.objects.select_related("visit__patient", "visit__clinic")
        .filter(pk=check_in_id, visit__clinic__in=clinics_for(viewer))
        .first()
    )
    if check_in is None:
        raise NotFound("No such checklist in your clinics.")
    return check_in


def decimal_or_none(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def visit_of_patient_exists(patient_id: int, visit_id: int) -> bool:
    """True when infusion visit `visit_id` exists and is this patient's (the ledger checks a draw's visit)."""
    return InfusionVisit.objects.filter(pk=visit_id, patient_id=patient_id).exists()
