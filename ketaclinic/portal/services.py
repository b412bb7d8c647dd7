"""The portal's verbs: publish a page of the public site, invite a patient or guardian, accept an invitation,
confirm a visit's instructions, ask to cancel or move a visit, sign a consent, write and answer messages.
Each takes the acting person as `by`, checks access first and writes its audit entry."""

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from ketaclinic.accounts.access import require, require_in_clinic
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change, record_patient_change
from ketaclinic.core import clock
from ketaclinic.core.errors import ErrorKind, NotFound
from ketaclinic.core.tokens import hash_token, new_token
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import Assent, ConsentRecord, Guardian, Patient
from ketaclinic.patients.rules import ConsentStatus, age_in_years
from ketaclinic.portal import rules, selectors
from ketaclinic.portal.errors import PortalDomainError, PortalError
from ketaclinic.portal.models import (
    PortalInvitation,
    PortalMessage,
    PublicPage,
    PublicPageVersion,
    VisitRequest,
    VisitRequestKind,
    VisitRequestStatus,
)
from ketaclinic.portal.rules import Section, Topic
from ketaclinic.protocols.selectors import protocol_int
from ketaclinic.scheduling import services as schedule_services
from ketaclinic.scheduling.models import AppointmentStatus, InstructionConfirmation

SUBJECT_MAX_CHARS = 150
USERNAME_MAX_CHARS = 150

# --- The public site --------------------------------------------------------------------------------------


def _text(value: str, field: str, limit: int) -> str:
    if problem := rules.text_problem(value, limit=limit):
        code = PortalError.TEXT_REQUIRED if not value.strip() else PortalError.TEXT_TOO_LONG
        raise PortalDomainError(code, problem, field=field)
    return value.strip()


@transaction.atomic
def publish_page(*, by: Actor, page: PublicPage, title: str, summary: str, body: str) -> PublicPageVersion:
    """A new version of a public page (the earlier ones stay, with who wrote them). Refuses links other than
    phone, mail, https and same-site addresses, and a version that changes nothing."""
    require(by, Perm.EDIT_PUBLIC_SITE)
    title = _text(title, "title", 120)
    body = _text(body, "body", rules.PAGE_MAX_CHARS)
    summary = summary.strip()[:240]
    if bad := rules.unsafe_links(body):
        raise PortalDomainError(
            PortalError.UNSAFE_LINK,
            "Links may only be phone numbers (tel:), e-mail (mailto:), https:// or this site's pages: "
            f"{bad[0]}",
            field="body",
        )
    current = PublicPageVersion.objects.select_for_update().filter(page=page).order_by("-version").first()
    if current and (current.title, current.summary, current.body) == (title, summary, body):
        raise PortalDomainError(PortalError.PAGE_UNCHANGED, "Nothing was changed.", field="body")
    version = PublicPageVersion.objects.create(
        page=page,
        version=(current.version + 1) if current else 1,
        title=title,
        summary=summary,
        body=body,
        edited_by=by,
        edited_at=clock.now(),
    )
    record_change(
        by=by,
        action=Action.UPDATE,
        object_type=ObjectType.PUBLIC_PAGE,
        object_id=page.pk,
        summary=f"public page '{page.slug}' version {version.version}",
    )
    return version


# --- Invitations ------------------------------------------------------------------------------------------


def _refuse_a_child_too_young_for_their_own_view(patient: Patient) -> None:
    limits = patient_services.age_rules()
    from_age = protocol_int("portal_own_view_from_age_years")
    age = age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    if not rules.sections_for(
        rules.Relation.SELF,
        age_years=age,
        age_of_majority_years=limits.age_of_majority_years,
        own_view_from_age_years=from_age,
    ):
        raise PortalDomainError(
            PortalError.NOT_FOR_THIS_VIEW,
            f"A child has their own portal sign-in from age {from_age}: invite a guardian instead.",
            field="who",
        )


@transaction.atomic
def invite_to_portal(
    *, by: Actor, patient: Patient, guardian: Guardian | None = None, email: str = ""
) -> tuple[PortalInvitation, str]:
    """A one-time sign-up link for the patient, or for one of their guardians. Returns the invitation and
    the token (shown once: only its hash is stored). Earlier open invitations for the same person stop
    working."""
    require_in_clinic(by, Perm.INVITE_TO_PORTAL, patient.clinic_id, what="patient")
    if guardian is not None:
        if guardian.patient_id != patient.pk or not guardian.is_active:
            raise NotFound("No such guardian of this patient.")
        if guardian.portal_user_id is not None:
            raise PortalDomainError(
                PortalError.ALREADY_LINKED,
                f"{guardian.full_name} already has a portal account.",
                field="who",
            )
    elif patient.portal_user_id is not None:
        raise PortalDomainError(
            PortalError.ALREADY_LINKED, "The patient already has a portal account.", field="who"
        )
    else:
        _refuse_a_child_too_young_for_their_own_view(patient)
    now = clock.now()
    PortalInvitation.objects.filter(
        patient=patient, guardian=guardian, accepted_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    token = new_token()
    invitation = PortalInvitation.objects.create(
        patient=patient,
        guardian=guardian,
        token_hash=hash_token(token),
        sent_to=email.strip(),
        created_by=by,
        created_at=now,
        expires_at=now + dt.timedelta(days=protocol_int("portal_invitation_valid_days")),
    )
    who = guardian.full_name if guardian else "the patient"
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.PORTAL_INVITATION,
        object_id=invitation.pk,
        summary=f"portal invitation for {who}",
    )
    return invitation, token


def invitation_for_token(token: str) -> PortalInvitation:
    """The usable invitation of a link: unknown, used and expired links all give the same error (404)."""
    invitation = (
        PortalInvitation.objects.select_related("patient__clinic", "guardian")
        .filter(token_hash=hash_token(token))
        .first()
        if token
        else None
    )
    if invitation is None or invitation.accepted_at is not None or clock.now() >= invitation.expires_at:
        error = PortalDomainError(
            PortalError.INVITATION_INVALID,
            "This invitation link is not valid (any more). Ask the clinic for a new one.",
        )
        error.kind = ErrorKind.NOT_FOUND
        raise error
    return invitation


@transaction.atomic
def accept_invitation(*, token: str, username: str, password: str) -> User:
    """Create the portal account an invitation is for and link it to the record (the patient's own, or the
    guardian's). The link works once. Raises PortalDomainError for a used or unknown link, a taken username
    or a password the site's rules refuse."""
    invitation = invitation_for_token(token)
    invitation = PortalInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise PortalDomainError(PortalError.INVITATION_INVALID, "This invitation was already used.")
    username = username.strip()
    if not username or len(username) > USERNAME_MAX_CHARS:
        raise PortalDomainError(PortalError.USERNAME_TAKEN, "Choose a user name.", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise PortalDomainError(
            PortalError.USERNAME_TAKEN, "That user name is taken: choose another.", field="username"
        )
    guardian, patient = invitation.guardian, invitation.patient
    first, last = (
        (guardian.given_name, guardian.family_name)
        if guardian
        else (patient.preferred_name or patient.legal_given_name, patient.legal_family_name)
    )
    user = User(
        username=username,
        role=Role.GUARDIAN.value if guardian else Role.PATIENT.value,
        first_name=first,
        last_name=last,
        email=guardian.email if guardian else patient.email,
    )
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise PortalDomainError(
            PortalError.PASSWORD_WEAK, " ".join(error.messages), field="password"
        ) from error
    user.set_password(password)
    user.save()
    # The staff member who sent the invitation authorised the link; the account is theirs to link.
    patient_services.link_portal_account(
        by=invitation.created_by, patient=patient, user=user, guardian=guardian
    )
    invitation.accepted_at = clock.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record_patient_change(
        by=user,
        patient=patient,
        action=Action.UPDATE,
        object_type=ObjectType.PORTAL_INVITATION,
        object_id=invitation.pk,
        summary="portal invitation accepted, account created",
    )
    return user


# --- Visits -----------------------------------------------------------------------------------------------


@transaction.atomic
def confirm_instructions(*, by: Actor, patient_id: int, appointment_id: int) -> InstructionConfirmation:
    """The patient (or guardian) confirms a booked infusion's pre-visit instructions (fasting, ride home, no
    driving) in the portal: scheduling's own confirmation, the same as through its e-mailed link."""
    record, appointment = selectors.own_appointment(
        viewer=by, patient_id=patient_id, appointment_id=appointment_id
    )
    if not schedule_services.needs_confirmation(appointment):
        raise PortalDomainError(
            PortalError.ALREADY_CONFIRMED, "Nothing to confirm for this visit.", kind=ErrorKind.CONFLICT
        )
    if appointment.ends_at <= clock.now():
        raise PortalDomainError(
            PortalError.NOT_OPEN, "This visit is over: there is nothing to confirm.", kind=ErrorKind.CONFLICT
        )
    confirmation = schedule_services.confirm_instructions_by_link(
        token=schedule_services.token_for(appointment)
    )
    record_patient_change(
        by=by,
        patient=record.patient,
        action=Action.CREATE,
        object_type=ObjectType.INSTRUCTION_CONFIRMATION,
        object_id=confirmation.pk,
        summary="pre-visit instructions confirmed in the portal by "
        + ("a guardian" if record.is_guardian else "the patient"),
    )
    return confirmation


@transaction.atomic
def request_visit_change(
    *, by: Actor, patient_id: int, appointment_id: int, kind: VisitRequestKind, note: str
) -> VisitRequest:
    """Ask the front desk to cancel or move a booked visit. One open request per visit."""
    record, appointment = selectors.own_appointment(
        viewer=by, patient_id=patient_id, appointment_id=appointment_id
    )
    if appointment.status != AppointmentStatus.BOOKED or appointment.starts_at <= clock.now():
        raise PortalDomainError(PortalError.NOT_OPEN, "Only a booked visit still to come can be changed.")
    if appointment.portal_requests.filter(status=VisitRequestStatus.OPEN).exists():
        raise PortalDomainError(
            PortalError.ALREADY_REQUESTED,
            "The front desk already has a request for this visit.",
            field="kind",
        )
    if kind == VisitRequestKind.RESCHEDULE and not note.strip():
        raise PortalDomainError(PortalError.TEXT_REQUIRED, "Say which days and times suit you.", field="note")
    request = VisitRequest.objects.create(
        appointment=appointment,
        kind=kind,
        note=note.strip()[:1000],
        requested_by=by,
        requested_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=record.patient,
        action=Action.CREATE,
        object_type=ObjectType.VISIT_REQUEST,
        object_id=request.pk,
        summary=f"{VisitRequestKind(kind).label} requested in the portal",
    )
    return request


@transaction.atomic
def handle_visit_request(*, by: Actor, request: VisitRequest, note: str) -> VisitRequest:
    """The front desk has acted on a request (cancelled or moved the visit in the schedule, or called the
    patient); the note is what the patient reads."""
    require_in_clinic(by, Perm.BOOK_APPOINTMENT, request.appointment.clinic_id, what="request")
    locked = VisitRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != VisitRequestStatus.OPEN:
        raise PortalDomainError(PortalError.ALREADY_HANDLED, "This request was already handled.")
    locked.status = VisitRequestStatus.DONE
    locked.handled_by = by
    locked.handled_at = clock.now()
    locked.handled_note = _text(note, "note", 1000)
    locked.save(update_fields=["status", "handled_by", "handled_at", "handled_note"])
    record_patient_change(
        by=by,
        patient=request.appointment.patient,
        action=Action.UPDATE,
        object_type=ObjectType.VISIT_REQUEST,
        object_id=locked.pk,
        summary="visit request handled",
    )
    return locked


# --- Consents ---------------------------------------------------------------------------------------------


@transaction.atomic
def sign_consent(
    *, by: Actor, patient_id: int, kind: str, read_and_agreed: bool, assent: Assent, assent_note: str = ""
) -> ConsentRecord:
    """Sign the current version of a consent in the portal (the patient, or a guardian with the child's
    assent): patients' own consent rules decide who may sign and when assent is needed."""
    found, summary = selectors.consent_to_sign(viewer=by, patient_id=patient_id, kind=kind)
    if summary.status == ConsentStatus.CURRENT:
        raise PortalDomainError(PortalError.ALREADY_SIGNED, "This consent is already signed.")
    if not read_and_agreed:
        raise PortalDomainError(
            PortalError.TEXT_REQUIRED, "Tick the box to say you have read and agree.", field="read_and_agreed"
        )
    assert summary.current_form is not None
    return patient_services.sign_consent_in_portal(
        by=by,
        patient=found.record.patient,
        form=summary.current_form,
        assent=assent if found.assent_expected else Assent.NOT_APPLICABLE,
        assent_note=assent_note,
    )


# --- Messages ---------------------------------------------------------------------------------------------


def _audit_message(by: Actor, patient: Patient, message: PortalMessage, summary: str) -> None:
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.PORTAL_MESSAGE,
        object_id=message.pk,
        summary=summary,
    )


@transaction.atomic
def send_message(*, by: Actor, patient_id: int, topic: Topic, subject: str, body: str) -> PortalMessage:
    """A new conversation from the patient or guardian to the care team, routed by topic to the roles that
    answer it."""
    record = selectors.own_record(viewer=by, patient_id=patient_id, section=Section.MESSAGES)
    message = PortalMessage.objects.create(
        patient=record.patient,
        topic=Topic(topic),
        subject=_text(subject, "subject", SUBJECT_MAX_CHARS),
        body=_text(body, "body", rules.MESSAGE_MAX_CHARS),
        author=by,
        from_staff=False,
        sent_at=clock.now(),
    )
    _audit_message(by, record.patient, message, f"portal message sent ({rules.TOPIC_LABELS[Topic(topic)]})")
    return message


@transaction.atomic
def reply_as_patient(*, by: Actor, patient_id: int, thread_id: int, body: str) -> PortalMessage:
    record, thread = selectors.message_thread(viewer=by, patient_id=patient_id, thread_id=thread_id)
    message = PortalMessage.objects.create(
        patient=record.patient,
        thread=thread.first,
        topic=thread.first.topic,
        body=_text(body, "body", rules.MESSAGE_MAX_CHARS),
        author=by,
        from_staff=False,
        sent_at=clock.now(),
    )
    _audit_message(by, record.patient, message, "portal message reply from the patient's side")
    return message


@transaction.atomic
def answer_message(*, by: Actor, thread_id: int, body: str) -> PortalMessage:
    """A staff member answers a conversation of a topic their role answers, in their clinic."""
    require(by, Perm.ANSWER_PORTAL_MESSAGES)
    thread = selectors.inbox_thread(viewer=by, thread_id=thread_id)
    message = PortalMessage.objects.create(
        patient=thread.first.patient,
        thread=thread.first,
        topic=thread.first.topic,
        body=_text(body, "body", rules.MESSAGE_MAX_CHARS),
        author=by,
        from_staff=True,
        sent_at=clock.now(),
    )
    _audit_message(by, thread.first.patient, message, "portal message answered by the care team")
    return message
