"""The staff home page per role: each person lands on their own work.

Nurse: the chairs now and today's infusions. Front desk: new inquiries, today's arrivals, instructions not
confirmed. Clinician: open alerts, orders to co-sign, assessments to decide, overdue scales. Custodian:
stock, counts due, visits waiting for a waste, discrepancies. Clinic admin: staff, the audit log, protocol
values nobody has confirmed. Billing clerk: billing's own work summary
(`billing.selectors.accounts.work_summary`, read by the view).

Each list is cut to a few rows with its full count beside it, and every read is a fixed number of queries,
so a home page costs the same on day one and in year five (a test holds it to that)."""

from dataclasses import dataclass, field
from typing import Any

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import ROLE_LABELS, Role
from ketaclinic.accounts.selectors import clinics_for, staff_for
from ketaclinic.audit.selectors import audit_events_for
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.dosing import selectors as dosing_selectors
from ketaclinic.infusions import selectors as infusion_selectors
from ketaclinic.infusions.selectors import care as infusion_care
from ketaclinic.inventory.selectors import custody
from ketaclinic.measures import selectors as measure_selectors
from ketaclinic.measures.rules.schedule import DueState
from ketaclinic.protocols.selectors import parameters_for
from ketaclinic.scheduling import selectors as schedule_selectors
from ketaclinic.scheduling.models import AppointmentKind
from ketaclinic.screening.models import InquiryStatus
from ketaclinic.screening.selectors import inquiries as inquiry_selectors
from ketaclinic.screening.selectors.assessment import assessment_worklist

# Rows a home list shows before "see all": enough for a morning, short enough for a tablet.
HOME_ROWS = 6
# How far ahead the front desk chases unconfirmed pre-visit instructions.
UNCONFIRMED_DAYS_AHEAD = 3


@dataclass
class NurseHome:
    chairs_now: list[Any]
    today_infusions: list[schedule_selectors.Visit]


@dataclass
class FrontDeskHome:
    new_inquiries: list[Any]
    new_inquiry_count: int
    arrivals: list[schedule_selectors.Visit]
    unconfirmed: list[schedule_selectors.Visit]
    unconfirmed_count: int
    days_ahead: int


@dataclass
class ClinicianHome:
    orders_to_cosign: list[Any]
    orders_to_cosign_count: int
    assessments_due: list[Any]
    assessments_due_count: int
    overdue_scales: list[Any]
    overdue_scale_count: int
    override_requests: list[Any] = field(default_factory=list)


@dataclass
class CustodianHome:
    clinic: Clinic
    summary: custody.CustodianSummary


@dataclass
class AdminHome:
    staff_by_role: list[tuple[str, int]]
    staff_without_name: list[User]
    audit_today: int
    unconfirmed_values: list[Any]
    unconfirmed_value_count: int


@dataclass
class StaffHome:
    role: str
    clinics: list[Clinic]
    open_alerts: list[Any] = field(default_factory=list)
    awaiting_waste: list[Any] = field(default_factory=list)
    nurse: NurseHome | None = None
    front_desk: FrontDeskHome | None = None
    clinician: ClinicianHome | None = None
    custodian: CustodianHome | None = None
    admin: AdminHome | None = None


def _clinic_ids(viewer: Actor) -> list[int]:
    return list(clinics_for(viewer).values_list("pk", flat=True))


def _nurse(viewer: Actor) -> NurseHome:
    today = schedule_selectors.today_visits_for(viewer=viewer)
    return NurseHome(
        chairs_now=infusion_selectors.active_visits(clinic_ids=_clinic_ids(viewer)),
        today_infusions=[v for v in today if v.appointment.kind == AppointmentKind.INFUSION],
    )


def _front_desk(viewer: Actor) -> FrontDeskHome:
    unconfirmed, unconfirmed_count = schedule_selectors.unconfirmed_visits_for(
        viewer=viewer, days=UNCONFIRMED_DAYS_AHEAD, limit=HOME_ROWS
    )
    can_inquire = can(viewer, Perm.MANAGE_INQUIRIES)
    return FrontDeskHome(
        new_inquiries=inquiry_selectors.inquiries_for(viewer=viewer, status=InquiryStatus.NEW)[:HOME_ROWS]
        if can_inquire
        else [],
        new_inquiry_count=inquiry_selectors.new_inquiry_count(viewer=viewer) if can_inquire else 0,
        arrivals=schedule_selectors.today_visits_for(viewer=viewer),
        unconfirmed=unconfirmed,
        unconfirmed_count=unconfirmed_count,
        days_ahead=UNCONFIRMED_DAYS_AHEAD,
    )


def _clinician(viewer: Actor) -> ClinicianHome:
    orders = dosing_selectors.orders_awaiting_cosignature(viewer=viewer)
    # Someone else's order: a prescriber does not co-sign their own.
    to_cosign = [row for row in orders if row.order.prescribed_by_id != viewer.pk]
    worklist = assessment_worklist(viewer=viewer)
    overdue = [
        row
        for row in measure_selectors.due_scales_for_clinics(viewer=viewer)
        if row.due.state == DueState.OVERDUE
    ]
    return ClinicianHome(
        orders_to_cosign=to_cosign[:HOME_ROWS],
        orders_to_cosign_count=len(to_cosign),
        assessments_due=worklist[:HOME_ROWS],
        assessments_due_count=len(worklist),
        overdue_scales=overdue[:HOME_ROWS],
        overdue_scale_count=len(overdue),
        override_requests=infusion_care.override_requests_waiting(viewer=viewer),
    )


def _custodian(viewer: Actor, clinics: list[Clinic]) -> CustodianHome | None:
    if not clinics:
        return None
    return CustodianHome(
        clinic=clinics[0], summary=custody.custodian_summary(viewer=viewer, clinic=clinics[0])
    )


def _admin(viewer: Actor) -> AdminHome:
    staff = list(staff_for(viewer=viewer).filter(role__in=[role.value for role in Role]))
    counts: dict[str, int] = {}
    for person in staff:
        counts[person.role] = counts.get(person.role, 0) + 1
    values = [row for row in parameters_for(viewer=viewer) if row.needs_confirmation]
    today_utc = clock.now().date()
    return AdminHome(
        staff_by_role=[(ROLE_LABELS[role], counts[role.value]) for role in Role if role.value in counts],
        staff_without_name=[person for person in staff if not person.get_full_name()][:HOME_ROWS],
        audit_today=audit_events_for(viewer=viewer, date_from=today_utc).count(),
        unconfirmed_values=values[:HOME_ROWS],
        unconfirmed_value_count=len(values),
    )


def staff_home(*, viewer: Actor) -> StaffHome:
    """What the signed-in staff member's home page shows, by their role."""
    clinics = list(clinics_for(viewer).order_by("pk"))
    role = viewer.role
    home = StaffHome(role=role, clinics=clinics)
    home.open_alerts = measure_selectors.home_alerts_for(viewer=viewer)
    if role == Role.NURSE:
        home.nurse = _nurse(viewer)
    elif role == Role.FRONT_DESK:
        home.front_desk = _front_desk(viewer)
    elif role == Role.CLINICIAN:
        home.clinician = _clinician(viewer)
    elif role == Role.CUSTODIAN:
        home.custodian = _custodian(viewer, clinics)
    elif role == Role.CLINIC_ADMIN:
        home.admin = _admin(viewer)
    if role in (Role.CUSTODIAN, Role.NURSE) and can(viewer, Perm.VIEW_STOCK):
        # Ketamine drawn for a visit but neither given nor wasted: the custodian follows it up.
        home.awaiting_waste = infusion_care.visits_awaiting_waste(viewer=viewer)
    return home
