"""Shared by the scheduling services: permission checks, audit, the clinic and its resources as plain data
for the rules, visit length, the instruction text and the one-time link."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.plans import selectors as plan_selectors
from ketaclinic.protocols.selectors import protocol_bool, protocol_int
from ketaclinic.scheduling import rules
from ketaclinic.scheduling.errors import ScheduleDomainError
from ketaclinic.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    Chair,
    Closure,
    StaffHours,
)

_LINK_SALT = "ketaclinic.scheduling.instructions"


def _audit(by: Actor | None, appointment: Appointment, action: str, summary: str) -> None:
    record_change(
        by=by,
        action=action,
        object_type=ObjectType.APPOINTMENT,
        object_id=appointment.pk,
        patient_id=appointment.patient_id,
        patient_record_number=appointment.patient.record_number,
        clinic_id=appointment.clinic_id,
        summary=summary,
    )


def _audit_resource(
    by: Actor, clinic: Clinic, object_type: ObjectType, object_id: object, summary: str
) -> None:
    record_change(
        by=by,
        action=Action.UPDATE,
        object_type=object_type,
        object_id=object_id,
        clinic_id=clinic.pk,
        summary=summary,
    )


# Reading the clinic and its resources as plain data for the rules ----------------------------------------


def clinic_day(clinic: Clinic) -> rules.ClinicDay:
    closures = [(c.first_day, c.last_day) for c in Closure.objects.filter(clinic=clinic)]
    return rules.ClinicDay(zone=clinic.time_zone, opening_hours=clinic.opening_hours or {}, closures=closures)


def _shifts(clinic: Clinic, role: Role) -> dict[int, list[rules.Shift]]:
    shifts: dict[int, list[rules.Shift]] = {}
    hours = StaffHours.objects.filter(clinic=clinic, user__role=role.value, user__is_active=True)
    for row in hours:
        shifts.setdefault(row.user_id, []).append(rules.Shift(row.weekday, row.starts, row.ends))
    return shifts


def resources_for(
    clinic: Clinic,
    *,
    window: rules.Interval,
    excluding_id: int | None = None,
    with_therapists: bool = False,
) -> rules.Resources:
    """Chairs, nurses and clinicians of the clinic with what is booked for them in `window` (leaving out the
    appointment `excluding_id`: a visit being moved does not stand in its own way). `with_therapists`: a
    psychotherapy session's person may be a therapist as well as a clinician."""
    taken = Appointment.objects.filter(
        status__in=HOLDING_STATUSES, starts_at__lt=window.ends_at, ends_at__gt=window.starts_at
    )
    if excluding_id is not None:
        taken = taken.exclude(pk=excluding_id)
    chair_busy: dict[int, list[rules.Interval]] = {}
    nurse_busy: dict[int, list[rules.Interval]] = {}
    for chair_id, nurse_id, starts_at, ends_at in taken.values_list(
        "chair_id", "nurse_id", "starts_at", "ends_at"
    ):
        interval = rules.Interval(starts_at, ends_at)
        if chair_id is not None:
            chair_busy.setdefault(chair_id, []).append(interval)
        if nurse_id is not None:
            nurse_busy.setdefault(nurse_id, []).append(interval)
    return rules.Resources(
        chairs=list(Chair.objects.filter(clinic=clinic, is_active=True).values_list("pk", flat=True)),
        nurse_shifts=_shifts(clinic, Role.NURSE),
        clinician_shifts=_shifts(clinic, Role.CLINICIAN)
        | (_shifts(clinic, Role.THERAPIST) if with_therapists else {}),
        chair_busy=chair_busy,
        nurse_busy=nurse_busy,
    )


def _lock_resources(clinic: Clinic) -> None:
    # Lock order is always chairs then nurses, by id, so two bookings never deadlock.
    list(Chair.objects.select_for_update(of=("self",)).filter(clinic=clinic, is_active=True).order_by("pk"))
    nurse_ids = StaffHours.objects.filter(clinic=clinic, user__role=Role.NURSE.value).values("user_id")
    list(User.objects.select_for_update(of=("self",)).filter(pk__in=nurse_ids).order_by("pk"))


@dataclass(frozen=True)
class VisitLength:
    infusion_min: int
    recovery_min: int


def infusion_length(patient: Patient) -> VisitLength:
    """The chair time of an infusion: the plan's infusion duration (else the protocol's) plus the protocol's
    typical recovery observation (recovery_observation_typical_min, the time the chair is really taken; the
    minimum would leave no slack for a slow recovery)."""
    terms = plan_selectors.booking_terms_for(patient=patient)
    infusion_min = terms.infusion_duration_min if terms else protocol_int("infusion_duration_min")
    return VisitLength(
        infusion_min=infusion_min, recovery_min=protocol_int("recovery_observation_typical_min")
    )


@dataclass(frozen=True)
class BookingDefaults:
    kind: str
    duration_min: int | None


def booking_defaults(patient: Patient) -> BookingDefaults:
    """What a new booking for the patient starts from: an infusion once a plan is signed, else the assessment
    (with the clinic's usual length, assessment_duration_min) that a new patient's first visit is."""
    kind = rules.first_visit_kind(
        has_signed_plan=plan_selectors.booking_terms_for(patient=patient) is not None
    )
    return BookingDefaults(
        kind=kind, duration_min=None if kind == "infusion" else protocol_int("assessment_duration_min")
    )


def instruction_lines() -> list[str]:
    return rules.pre_visit_instructions(
        fasting_food_hours=protocol_int("pre_visit_fasting_food_hours"),
        fasting_liquids_min=protocol_int("pre_visit_fasting_liquids_min"),
        escort_required=protocol_bool("discharge_escort_required"),
        no_driving_until_next_day=protocol_bool("discharge_no_driving_until_next_day"),
    )


def _slot_error(error: rules.SlotError, field: str = "starts_at") -> ScheduleDomainError:
    return ScheduleDomainError(error.code, error.message, field=field)


def token_for(appointment: Appointment) -> str:
    return salted_hmac(_LINK_SALT, appointment.instructions_nonce, algorithm="sha256").hexdigest()


def confirm_url(appointment: Appointment) -> str:
    base_url = getattr(settings, "KETACLINIC_BASE_URL", "http://127.0.0.1:8000")
    return base_url + reverse("scheduling:confirm_instructions", kwargs={"token": token_for(appointment)})
