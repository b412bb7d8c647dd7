"""Reads of the portal and the public site. A portal read starts from `own_record`, which decides once
whether the signed-in person may see a record and which parts: another person's record is a 404, a staff
member a 403. Reads of patient data are audited."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.urls import reverse

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.selectors import access_log_for_patient
from ketaclinic.audit.services import PatientShown, record_list_read, record_read
from ketaclinic.billing import selectors as billing_selectors
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.infusions.models import Discharge
from ketaclinic.measures import selectors as measure_selectors
from ketaclinic.measures.models import MeasureRequest
from ketaclinic.patients import selectors as patient_selectors
from ketaclinic.patients.models import Guardian, Patient
from ketaclinic.patients.rules import ConsentStatus, age_in_years, assent_expected
from ketaclinic.patients.services import age_rules
from ketaclinic.portal import rules
from ketaclinic.portal.models import (
    PortalMessage,
    PublicPage,
    PublicPageVersion,
    VisitRequest,
    VisitRequestStatus,
)
from ketaclinic.portal.rules import Relation, Section
from ketaclinic.protocols.selectors import protocol_int
from ketaclinic.scheduling.models import Appointment, AppointmentStatus
from ketaclinic.scheduling.services import instruction_lines, needs_confirmation
from ketaclinic.screening.models import IntakeInvitation
from ketaclinic.screening.services.intake import token_for as intake_token_for

ACCESS_LOG_ROWS = 300

# --- The public site --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SitePage:
    page: PublicPage
    current: PublicPageVersion
    blocks: tuple[rules.Block, ...]


def _current_versions() -> list[PublicPageVersion]:
    versions = PublicPageVersion.objects.select_related("page", "edited_by").order_by(
        "page__position", "-version"
    )
    newest: dict[int, PublicPageVersion] = {}
    for version in versions:
        newest.setdefault(version.page_id, version)
    return list(newest.values())


def public_menu() -> list[PublicPageVersion]:
    """Every page's current version, in menu order. Public: no patient data."""
    return _current_versions()


def public_page(*, slug: str) -> SitePage:
    """A page of the public site with its text parsed into blocks. Raises NotFound for an unknown page."""
    page = PublicPage.objects.filter(slug=slug).first()
    current = page.versions.order_by("-version").first() if page else None
    if page is None or current is None:
        raise NotFound("No such page.")
    return SitePage(page=page, current=current, blocks=rules.parse_page_text(current.body))


def public_clinics() -> list[Clinic]:
    """The clinics shown on the public site: name, address, hours and phone of each active one."""
    return list(Clinic.objects.filter(is_active=True).order_by("name"))


def pages_for_editing(*, viewer: Actor) -> list[PublicPageVersion]:
    require(viewer, Perm.EDIT_PUBLIC_SITE)
    return _current_versions()


def page_history(*, viewer: Actor, slug: str) -> tuple[PublicPage, list[PublicPageVersion]]:
    """A page and all its versions, newest first, for the editor."""
    require(viewer, Perm.EDIT_PUBLIC_SITE)
    page = PublicPage.objects.filter(slug=slug).first()
    if page is None:
        raise NotFound("No such page.")
    return page, list(page.versions.select_related("edited_by").order_by("-version"))


# --- Whose record -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnRecord:
    """A record as the signed-in person may see it."""

    patient: Patient
    relation: Relation
    guardian: Guardian | None
    sections: tuple[Section, ...]
    age_years: int

    @property
    def is_guardian(self) -> bool:
        return self.relation == Relation.GUARDIAN

    @property
    def first_name(self) -> str:
        return self.patient.preferred_name or self.patient.legal_given_name

    @property
    def title(self) -> str:
        """'Noah's record' for a guardian, 'My record' for the patient."""
        return f"{self.first_name}'s record" if self.is_guardian else "My record"

    def shows(self, section: Section) -> bool:
        return section in self.sections


def _own(viewer: Actor, patient: Patient) -> OwnRecord:
    guardian = (
        patient.guardians.filter(portal_user=viewer, is_active=True).order_by("pk").first()
        if patient.portal_user_id != viewer.pk
        else None
    )
    relation = Relation.GUARDIAN if guardian is not None else Relation.SELF
    limits = age_rules()
    age = age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    sections = rules.sections_for(
        relation,
        age_years=age,
        age_of_majority_years=limits.age_of_majority_years,
        own_view_from_age_years=protocol_int("portal_own_view_from_age_years"),
    )
    return OwnRecord(patient=patient, relation=relation, guardian=guardian, sections=sections, age_years=age)


def own_records(*, viewer: Actor) -> list[OwnRecord]:
    """The records the signed-in patient or guardian may open (their own, their children's). 403 for staff."""
    require(viewer, Perm.VIEW_OWN_RECORD)
    return [_own(viewer, patient) for patient in patient_selectors.own_patient_records(user=viewer)]


def own_record(*, viewer: Actor, patient_id: int, section: Section = Section.OVERVIEW) -> OwnRecord:
    """One record the viewer may see, for one part of it. Raises PermissionDenied without VIEW_OWN_RECORD,
    NotFound for a record that is not theirs (or their child's) or a part of it their view leaves out."""
    require(viewer, Perm.VIEW_OWN_RECORD)
    for patient in patient_selectors.own_patient_records(user=viewer):
        if patient.pk == patient_id:
            record = _own(viewer, patient)
            if not record.shows(section):
                raise NotFound("That part of the record is not in your view.")
            return record
    raise NotFound("No such record in your portal.")


def _read(
    viewer: Actor, record: OwnRecord, object_type: ObjectType, summary: str, object_id: object = ""
) -> None:
    record_read(
        by=viewer,
        object_type=object_type,
        object_id=object_id or record.patient.pk,
        patient_id=record.patient.pk,
        patient_record_number=record.patient.record_number,
        clinic_id=record.patient.clinic_id,
        summary=summary,
    )


# --- Overview ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueScale:
    request: MeasureRequest
    instrument_name: str
    due_at: dt.datetime
    overdue: bool


@dataclass(frozen=True)
class DueIntake:
    invitation: IntakeInvitation
    path: str


@dataclass(frozen=True)
class Overview:
    record: OwnRecord
    next_visit: Appointment | None
    to_confirm: list[Appointment]
    due_scales: list[DueScale]
    due_intakes: list[DueIntake]
    consents_to_sign: int
    last_discharge: Discharge | None
    unanswered_threads: int


def _due_scales(record: OwnRecord) -> list[DueScale]:
    grace = dt.timedelta(hours=protocol_int("measures_overdue_after_hours"))
    now = clock.now()
    requests = (
        MeasureRequest.objects.filter(patient=record.patient, expires_at__gt=now, administration__isnull=True)
        .select_related("instrument")
        .order_by("due_at", "pk")
    )
    return [
        DueScale(
            request=request,
            instrument_name=request.instrument.name,
            due_at=request.due_at,
            overdue=now > request.due_at + grace,
        )
        for request in requests
    ]


def _due_intakes(record: OwnRecord) -> list[DueIntake]:
    invitations = IntakeInvitation.objects.filter(
        patient=record.patient, used_at__isnull=True, expires_at__gt=clock.now()
    ).order_by("created_at")
    return [
        DueIntake(
            invitation=invitation,
            path=reverse(
                "screening:intake", kwargs={"token": intake_token_for(invitation, invitation.nonce)}
            ),
        )
        for invitation in invitations
    ]


def _upcoming(patient: Patient) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(patient=patient, starts_at__gte=clock.now() - dt.timedelta(hours=2))
        .filter(status__in=(AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN))
        .select_related("clinic", "clinician")
        .order_by("starts_at")
    )


def overview(*, viewer: Actor, patient_id: int) -> Overview:
    """The landing page of a record: what to do next (instructions to confirm, questionnaires, consents), the
    next visit, the last discharge instructions."""
    record = own_record(viewer=viewer, patient_id=patient_id)
    _read(viewer, record, ObjectType.OWN_RECORD, "portal overview")
    patient = record.patient
    upcoming = list(_upcoming(patient))
    consents = 0
    if record.shows(Section.CONSENTS):
        consents = sum(
            1
            for summary in patient_selectors.own_consent_summaries(user=viewer, patient=patient)
            if summary.current_form is not None and summary.status != ConsentStatus.CURRENT
        )
    threads = 0
    if record.shows(Section.MESSAGES):
        threads = sum(1 for thread in _threads(patient) if thread.awaiting_patient)
    discharge = (
        Discharge.objects.filter(visit__patient=patient).order_by("-discharged_at").first()
        if record.shows(Section.VISITS)
        else None
    )
    return Overview(
        record=record,
        next_visit=upcoming[0] if upcoming else None,
        to_confirm=[visit for visit in upcoming if needs_confirmation(visit)],
        due_scales=_due_scales(record),
        due_intakes=_due_intakes(record) if record.shows(Section.CONSENTS) else [],
        consents_to_sign=consents,
        last_discharge=discharge,
        unanswered_threads=threads,
    )


# --- Visits -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitLine:
    appointment: Appointment
    needs_confirmation: bool
    open_request: VisitRequest | None
    last_request: VisitRequest | None
    discharge: Discharge | None

    @property
    def can_request_change(self) -> bool:
        return self.appointment.status == AppointmentStatus.BOOKED and self.open_request is None


@dataclass(frozen=True)
class Visits:
    record: OwnRecord
    upcoming: list[VisitLine]
    past: list[VisitLine]
    instructions: list[str]

    @property
    def next_to_confirm_id(self) -> int | None:
        """The soonest visit whose instructions wait for confirmation: shown open, later ones folded."""
        return next((line.appointment.pk for line in self.upcoming if line.needs_confirmation), None)


def visits(*, viewer: Actor, patient_id: int) -> Visits:
    """Upcoming and past visits, with instructions to confirm, change requests and discharge instructions."""
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.VISITS)
    _read(viewer, record, ObjectType.OWN_VISITS, "portal visits")
    appointments = list(
        Appointment.objects.filter(patient=record.patient)
        .select_related("clinic", "clinician")
        .prefetch_related("confirmations", "portal_requests")
        .order_by("-starts_at")
    )
    discharges = {
        discharge.visit.appointment_id: discharge
        for discharge in Discharge.objects.filter(visit__patient=record.patient).select_related("visit")
    }
    cutoff = clock.now() - dt.timedelta(hours=2)
    upcoming, past = [], []
    for appointment in appointments:
        requests = sorted(appointment.portal_requests.all(), key=lambda item: item.requested_at, reverse=True)
        line = VisitLine(
            appointment=appointment,
            needs_confirmation=needs_confirmation(appointment),
            open_request=next((item for item in requests if item.status == VisitRequestStatus.OPEN), None),
            last_request=requests[0] if requests else None,
            discharge=discharges.get(appointment.pk),
        )
        if appointment.is_open and appointment.starts_at >= cutoff:
            upcoming.append(line)
        else:
            past.append(line)
    upcoming.reverse()
    return Visits(record=record, upcoming=upcoming, past=past, instructions=instruction_lines())


def own_appointment(*, viewer: Actor, patient_id: int, appointment_id: int) -> tuple[OwnRecord, Appointment]:
    """One of the record's appointments (404 for another record's)."""
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.VISITS)
    appointment = (
        Appointment.objects.filter(pk=appointment_id, patient=record.patient).select_related("clinic").first()
    )
    if appointment is None:
        raise NotFound("No such visit in this record.")
    return record, appointment


# --- Questionnaires ---------------------------------------------------------------------------------------


def due_scales(*, viewer: Actor, patient_id: int) -> tuple[OwnRecord, list[DueScale], list[DueIntake]]:
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.SCALES)
    _read(viewer, record, ObjectType.OWN_SCALES, "portal questionnaires")
    intakes = _due_intakes(record) if record.shows(Section.CONSENTS) else []
    return record, _due_scales(record), intakes


def own_scale_request(*, viewer: Actor, patient_id: int, request_id: int) -> tuple[OwnRecord, MeasureRequest]:
    """An open questionnaire request of the record (404 for another record's or a filled one)."""
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.SCALES)
    request = (
        MeasureRequest.objects.filter(pk=request_id, patient=record.patient)
        .select_related("instrument", "patient__clinic")
        .first()
    )
    if request is None:
        raise NotFound("No such questionnaire in this record.")
    return record, request


def informant_wording(record: OwnRecord, instrument_key: str) -> rules.InformantWording | None:
    """The wording a guardian answers in, about the child; None when the patient answers for themself."""
    if not record.is_guardian:
        return None
    return rules.INFORMANT_WORDING.get(instrument_key)


def progress(*, viewer: Actor, patient_id: int) -> tuple[OwnRecord, list[measure_selectors.InstrumentCourse]]:
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.PROGRESS)
    _read(viewer, record, ObjectType.OWN_OUTCOMES, "portal outcome graphs")
    return record, measure_selectors.own_outcome_courses(user=viewer, patient=record.patient)


# --- Consents ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Consents:
    record: OwnRecord
    summaries: list[patient_selectors.ConsentSummary]
    assent_expected: bool


def consents(*, viewer: Actor, patient_id: int) -> Consents:
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.CONSENTS)
    _read(viewer, record, ObjectType.OWN_CONSENTS, "portal consents")
    limits = age_rules()
    return Consents(
        record=record,
        summaries=patient_selectors.own_consent_summaries(user=viewer, patient=record.patient),
        assent_expected=record.is_guardian
        and assent_expected(
            record.age_years,
            assent_from_age_years=limits.assent_from_age_years,
            age_of_majority_years=limits.age_of_majority_years,
        ),
    )


def consent_to_sign(
    *, viewer: Actor, patient_id: int, kind: str
) -> tuple[Consents, patient_selectors.ConsentSummary]:
    """A consent kind's current text and state (404 for an unknown kind)."""
    found = consents(viewer=viewer, patient_id=patient_id)
    for summary in found.summaries:
        if summary.kind == kind and summary.current_form is not None:
            return found, summary
    raise NotFound("No such consent.")


# --- Messages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thread:
    first: PortalMessage
    messages: list[PortalMessage]

    @property
    def last(self) -> PortalMessage:
        return self.messages[-1]

    @property
    def awaiting_staff(self) -> bool:
        return not self.last.from_staff

    @property
    def awaiting_patient(self) -> bool:
        return self.last.from_staff


def _threads(patient: Patient) -> list[Thread]:
    messages = list(
        PortalMessage.objects.filter(patient=patient).select_related("author").order_by("sent_at", "pk")
    )
    return _group(messages)


def _group(messages: list[PortalMessage]) -> list[Thread]:
    by_thread: dict[int, list[PortalMessage]] = {}
    for message in messages:
        by_thread.setdefault(message.thread_id or message.pk, []).append(message)
    threads = [
        Thread(first=items[0], messages=items) for items in by_thread.values() if items[0].thread_id is None
    ]
    return sorted(threads, key=lambda thread: thread.last.sent_at, reverse=True)


def message_threads(*, viewer: Actor, patient_id: int) -> tuple[OwnRecord, list[Thread]]:
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.MESSAGES)
    _read(viewer, record, ObjectType.OWN_MESSAGES, "portal messages listed")
    return record, _threads(record.patient)


def message_thread(*, viewer: Actor, patient_id: int, thread_id: int) -> tuple[OwnRecord, Thread]:
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.MESSAGES)
    for thread in _threads(record.patient):
        if thread.first.pk == thread_id:
            _read(viewer, record, ObjectType.PORTAL_MESSAGE, "message thread read", thread_id)
            return record, thread
    raise NotFound("No such conversation in this record.")


# --- Documents --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Documents:
    """The papers of a record the viewer may read: discharge instructions (with the visits), consents, and
    billing's estimates, invoices, receipts and superbills. A part the viewer's view leaves out is None."""

    record: OwnRecord
    discharges: list[Discharge] | None
    consents: list[patient_selectors.ConsentSummary] | None
    billing: billing_selectors.OwnPatientDocuments | None


def documents(*, viewer: Actor, patient_id: int) -> Documents:
    """A record's documents, each part only where the viewer's view shows it (a minor's reduced view: the
    discharge instructions of their visits). The billing part is billing's own list for the patient or
    guardian (`billing.selectors.own_documents`, the `/billing/my/` page), audited there."""
    record = own_record(viewer=viewer, patient_id=patient_id)
    _read(viewer, record, ObjectType.OWN_RECORD, "portal documents")
    discharges = (
        list(
            Discharge.objects.filter(visit__patient=record.patient)
            .select_related("visit")
            .order_by("-discharged_at")
        )
        if record.shows(Section.VISITS)
        else None
    )
    consents = (
        [
            summary
            for summary in patient_selectors.own_consent_summaries(user=viewer, patient=record.patient)
            if summary.current_form is not None
        ]
        if record.shows(Section.CONSENTS)
        else None
    )
    billing = None
    if record.shows(Section.BILLING):
        billing = next(
            (
                found
                for found in billing_selectors.own_documents(user=viewer)
                if found.patient.pk == record.patient.pk
            ),
            None,
        )
    return Documents(record=record, discharges=discharges, consents=consents, billing=billing)


# --- Who looked at the record -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessLog:
    record: OwnRecord
    lines: list[rules.LogLine]
    time_zone: str
    zone_label: str


def access_log(*, viewer: Actor, patient_id: int) -> AccessLog:
    """Who looked at or changed the record, people only, in the clinic's time (its zone named); a device's
    readings collapsed into one line per clinic day."""
    record = own_record(viewer=viewer, patient_id=patient_id, section=Section.ACCESS_LOG)
    zone = ZoneInfo(record.patient.clinic.time_zone)
    events = [
        rules.LogEvent(
            at=event.occurred_at.astimezone(zone),
            actor_id=event.actor_id,
            actor_name=(event.actor.get_full_name() or event.actor.username) if event.actor else "",
            actor_role=event.actor_role_label,
            action=event.get_action_display(),
            what=event.object_label,
        )
        for event in access_log_for_patient(patient_id=record.patient.pk)[:ACCESS_LOG_ROWS]
    ]
    _read(viewer, record, ObjectType.OWN_ACCESS_LOG, "portal access log")
    viewer_name = viewer.first_name or viewer.username
    lines = rules.access_log_lines(
        events, viewer_id=viewer.pk, viewer_name=viewer_name, record_name=record.first_name
    )
    label = clock.now().astimezone(zone).tzname() or record.patient.clinic.time_zone
    return AccessLog(record=record, lines=lines, time_zone=record.patient.clinic.time_zone, zone_label=label)


# --- Staff: inbox and visit requests ----------------------------------------------------------------------


def _staff_clinic_ids(viewer: Actor) -> list[int]:
    return list(clinics_for(viewer).values_list("pk", flat=True))


def inbox(*, viewer: Actor) -> list[Thread]:
    """The conversations of the viewer's clinics in the topics their role answers, those waiting for the
    clinic first. Each patient shown is written to the access log."""
    require(viewer, Perm.ANSWER_PORTAL_MESSAGES)
    topics = rules.topics_for_role(Role(viewer.role))
    messages = list(
        PortalMessage.objects.filter(patient__clinic__in=_staff_clinic_ids(viewer), topic__in=topics)
        .select_related("author", "patient")
        .order_by("sent_at", "pk")
    )
    threads = sorted(
        _group(messages), key=lambda thread: (not thread.awaiting_staff, -thread.last.sent_at.timestamp())
    )
    record_list_read(
        by=viewer,
        object_type=ObjectType.PORTAL_INBOX,
        summary=f"portal inbox: {len(threads)} conversation(s)",
        patients=[
            PatientShown(
                thread.first.patient_id, thread.first.patient.record_number, thread.first.patient.clinic_id
            )
            for thread in threads
        ],
    )
    return threads


def inbox_thread(*, viewer: Actor, thread_id: int) -> Thread:
    """One conversation for a staff member: 403 without the permission, 404 for another clinic's or a topic
    their role does not answer."""
    require(viewer, Perm.ANSWER_PORTAL_MESSAGES)
    first = (
        PortalMessage.objects.filter(pk=thread_id, thread__isnull=True)
        .select_related("patient", "author")
        .first()
    )
    topics = rules.topics_for_role(Role(viewer.role))
    if first is None or first.patient.clinic_id not in _staff_clinic_ids(viewer) or first.topic not in topics:
        raise NotFound("No such conversation in your inbox.")
    replies = list(first.replies.select_related("author").order_by("sent_at", "pk"))
    record_read(
        by=viewer,
        object_type=ObjectType.PORTAL_MESSAGE,
        object_id=first.pk,
        patient_id=first.patient_id,
        patient_record_number=first.patient.record_number,
        clinic_id=first.patient.clinic_id,
        summary="message thread read",
    )
    return Thread(first=first, messages=[first, *replies])


def open_visit_requests(*, viewer: Actor) -> list[VisitRequest]:
    """Patients' open requests to cancel or move a visit, in the viewer's clinics, oldest first."""
    require(viewer, Perm.BOOK_APPOINTMENT)
    found = list(
        VisitRequest.objects.filter(
            status=VisitRequestStatus.OPEN, appointment__clinic__in=_staff_clinic_ids(viewer)
        )
        .select_related("appointment__patient", "appointment__clinic", "requested_by")
        .order_by("requested_at", "pk")
    )
    record_list_read(
        by=viewer,
        object_type=ObjectType.PORTAL_VISIT_REQUESTS,
        summary=f"{len(found)} open visit request(s)",
        patients=[
            PatientShown(
                item.appointment.patient_id,
                item.appointment.patient.record_number,
                item.appointment.clinic_id,
            )
            for item in found
        ],
    )
    return found


def visit_request_for(*, viewer: Actor, request_id: int) -> VisitRequest:
    require(viewer, Perm.BOOK_APPOINTMENT)
    found = (
        VisitRequest.objects.filter(pk=request_id, appointment__clinic__in=_staff_clinic_ids(viewer))
        .select_related("appointment__patient", "appointment__clinic")
        .first()
    )
    if found is None:
        raise NotFound("No such request in your clinics.")
    return found


def patient_to_invite(*, viewer: Actor, patient_id: int) -> tuple[Patient, list[Guardian]]:
    """A patient (and their active guardians) a staff member may invite to the portal."""
    require(viewer, Perm.INVITE_TO_PORTAL)
    patient = patient_selectors.patient_for(
        viewer=viewer, patient_id=patient_id, audit_as=ObjectType.PORTAL_INVITE
    )
    return patient, list(patient.guardians.filter(is_active=True).order_by("pk"))
