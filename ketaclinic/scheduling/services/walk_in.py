"""A walk-in infusion: a visit opened at the chair without a booking still takes a chair on the day's
schedule and counts toward the patient's plan, so every page tells one story about today."""

from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require, require_clinic
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.core import clock
from ketaclinic.patients.models import Patient
from ketaclinic.plans import selectors as plan_selectors
from ketaclinic.plans import services as plan_services
from ketaclinic.scheduling import rules
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus, Chair
from ketaclinic.scheduling.services.booking import _log_status
from ketaclinic.scheduling.services.common import (
    _audit,
    _lock_resources,
    clinic_day,
    infusion_length,
    resources_for,
)


def _overlaps(slot: rules.Interval, taken: Any) -> bool:
    return any(busy.starts_at < slot.ends_at and busy.ends_at > slot.starts_at for busy in taken)


def _chair_for(slot: rules.Interval, resources: rules.Resources, chair: Chair | None) -> int | None:
    """The given chair; else the first chair in service free for the whole slot; else the first in service
    (the patient is already seated: the schedule records where, it does not refuse)."""
    if chair is not None:
        return chair.pk
    free = [pk for pk in resources.chairs if not _overlaps(slot, resources.chair_busy.get(pk, ()))]
    if free:
        return free[0]
    return resources.chairs[0] if resources.chairs else None


def _clinician_for(
    slot: rules.Interval, resources: rules.Resources, day: rules.ClinicDay, fallback: Any
) -> int:
    """A clinician on site for the slot, else `fallback` (the clinician who prescribed the dose)."""
    try:
        return rules.find_clinician(slot, day, resources)
    except rules.SlotError:
        return int(fallback.pk)


@transaction.atomic
def record_walk_in(
    *, by: Actor, patient: Patient, chair: Chair | None, responsible_clinician: Any
) -> Appointment | None:
    """Record an infusion that starts now without a booking: an infusion appointment, checked in, from now
    for the infusion plus recovery, in `chair` (else the first free chair), nursed by `by` when a nurse, with
    an on-site clinician (else `responsible_clinician`). The plan is told the infusion was booked and
    attended, as a booked visit's check-in tells it. Returns None, recording nothing, when the clinic has no
    chair in service (there is no schedule to show it on)."""
    require(by, Perm.BOOK_APPOINTMENT)
    require_clinic(by, patient.clinic_id)
    clinic = patient.clinic
    length = infusion_length(patient)
    starts_at = clock.now()
    slot = rules.Interval(
        starts_at,
        rules.appointment_end(starts_at, duration_min=length.infusion_min, recovery_min=length.recovery_min),
    )
    _lock_resources(clinic)
    resources = resources_for(clinic, window=slot)
    chair_id = _chair_for(slot, resources, chair)
    if chair_id is None:
        return None
    day = clinic_day(clinic)
    nurse_id = by.pk if getattr(by, "role", None) == Role.NURSE.value else None
    if nurse_id is None:
        free_nurses = [
            pk
            for pk in sorted(resources.nurse_shifts)
            if not _overlaps(slot, resources.nurse_busy.get(pk, ()))
        ]
        nurse_id = free_nurses[0] if free_nurses else by.pk
    appointment = Appointment.objects.create(
        patient=patient,
        clinic=clinic,
        kind=AppointmentKind.INFUSION,
        chair_id=chair_id,
        nurse_id=nurse_id,
        clinician_id=_clinician_for(slot, resources, day, responsible_clinician),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=AppointmentStatus.CHECKED_IN,
        note="Walk-in: the infusion was opened at the chair without a booking.",
        protocol_infusion_duration_min=length.infusion_min,
        protocol_recovery_min=length.recovery_min,
        booked_by=by,
        booked_at=starts_at,
    )
    _log_status(by, appointment, AppointmentStatus.CHECKED_IN, "walk-in")
    _audit(by, appointment, Action.CREATE, "Walk-in infusion checked in")
    if plan_selectors.signed_active_plan(patient=patient) is not None:
        plan_services.note_infusion_booked(
            by=by, patient=patient, appointment_id=appointment.pk, starts_at=appointment.starts_at
        )
        plan_services.note_infusion_attended(by=by, patient=patient, appointment_id=appointment.pk)
    return appointment
