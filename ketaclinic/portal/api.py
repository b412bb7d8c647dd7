"""The portal over JSON (`/api/portal/`), for a patient or a guardian signed in (session with CSRF; API tokens
are staff's and integrations', never a patient's). Every operation goes through the selectors and services
the portal's pages use, so page and API never disagree and are audited alike: another person's record is 404,
a part of a record the person's view leaves out (a minor's reduced view) is 404, staff get 403, anonymous
callers 401."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status

from ketaclinic.core.api import api_user
from ketaclinic.core.inputs import DbId
from ketaclinic.portal import selectors, services
from ketaclinic.portal.models import PortalMessage, VisitRequest
from ketaclinic.portal.rules import FULL_VIEW, TOPIC_LABELS, Topic
from ketaclinic.portal.schemas import (
    AccessLogOut,
    ConfirmationOut,
    DocumentsOut,
    ErrorOut,
    MeOut,
    MessageIn,
    MessagesOut,
    QuestionnairesOut,
    ReplyIn,
    ThreadOut,
    VisitRequestIn,
    VisitRequestOut,
    VisitsOut,
)

router = Router(tags=["portal"])

_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
_WRITE_ERRORS: dict[int, type[Schema]] = {**_ERRORS, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut}

NOT_FOR_EMERGENCIES = (
    "Messages are not for emergencies: they are read during opening hours. In crisis, call or text 988; "
    "in an emergency call 911."
)


def _record_path(name: str, patient_id: int, **more: Any) -> str:
    return reverse(f"portal:{name}", kwargs={"patient_id": patient_id, **more})


# --- Who I am ---------------------------------------------------------------------------------------------


@router.get("/me", response={200: MeOut, **_ERRORS}, summary="Who I am and whose records I may open")
def me(request: HttpRequest) -> dict[str, Any]:
    user = api_user(request)
    records = [record for record in selectors.own_records(viewer=user) if record.sections]
    return {
        "user_id": user.pk,
        "username": user.username,
        "name": user.get_full_name() or user.username,
        "role": user.role,
        "records": [
            {
                "patient_id": record.patient.pk,
                "first_name": record.first_name,
                "title": record.title,
                "relation": record.relation.value,
                "reduced_view": record.sections != FULL_VIEW,
                "sections": [section.value for section in record.sections],
                "clinic_name": record.patient.clinic.name,
                "clinic_phone": record.patient.clinic.phone,
            }
            for record in records
        ],
    }


# --- Visits -----------------------------------------------------------------------------------------------


def _request_out(item: VisitRequest | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "id": item.pk,
        "kind": item.kind,
        "kind_label": item.get_kind_display(),
        "note": item.note,
        "status": item.status,
        "requested_at": item.requested_at,
        "handled_at": item.handled_at,
        "handled_note": item.handled_note,
    }


def _visit_out(patient_id: int, line: selectors.VisitLine) -> dict[str, Any]:
    appointment = line.appointment
    confirmations = sorted(appointment.confirmations.all(), key=lambda row: row.confirmed_at)
    return {
        "appointment_id": appointment.pk,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "kind": appointment.kind,
        "kind_label": appointment.get_kind_display(),
        "status": appointment.status,
        "status_label": appointment.get_status_display(),
        "clinic_name": appointment.clinic.name,
        "clinician_name": appointment.clinician.display_name,
        "needs_confirmation": line.needs_confirmation,
        "instructions_confirmed": bool(confirmations),
        "instructions_confirmed_at": confirmations[0].confirmed_at if confirmations else None,
        "can_request_change": line.can_request_change,
        "open_request": _request_out(line.open_request),
        "last_request": _request_out(line.last_request),
        "discharge_instructions": line.discharge.instructions_text if line.discharge else None,
        "page_url": _record_path("visits", patient_id) + f"#visit-{appointment.pk}",
    }


@router.get(
    "/records/{patient_id}/visits",
    response={200: VisitsOut, **_ERRORS},
    summary="Upcoming and past visits, with instructions to confirm and change requests",
)
def visits(request: HttpRequest, patient_id: DbId) -> dict[str, Any]:
    found = selectors.visits(viewer=api_user(request), patient_id=patient_id)
    return {
        "patient_id": found.record.patient.pk,
        "instructions": found.instructions,
        "upcoming": [_visit_out(patient_id, line) for line in found.upcoming],
        "past": [_visit_out(patient_id, line) for line in found.past],
    }


@router.post(
    "/records/{patient_id}/visits/{appointment_id}/confirm-instructions",
    response={201: ConfirmationOut, **_WRITE_ERRORS},
    summary="Confirm a visit's pre-visit instructions (fasting, a ride home, no driving)",
)
def confirm_instructions(
    request: HttpRequest, patient_id: DbId, appointment_id: DbId
) -> Status[dict[str, Any]]:
    confirmation = services.confirm_instructions(
        by=api_user(request), patient_id=patient_id, appointment_id=appointment_id
    )
    return Status(
        201,
        {
            "appointment_id": appointment_id,
            "confirmed_at": confirmation.confirmed_at,
            "instructions": confirmation.instructions_text.splitlines(),
        },
    )


@router.post(
    "/records/{patient_id}/visits/{appointment_id}/requests",
    response={201: VisitRequestOut, **_WRITE_ERRORS},
    summary="Ask the front desk to cancel or move a visit",
)
def visit_request(
    request: HttpRequest, patient_id: DbId, appointment_id: DbId, payload: VisitRequestIn
) -> Status[dict[str, Any] | None]:
    made = services.request_visit_change(
        by=api_user(request),
        patient_id=patient_id,
        appointment_id=appointment_id,
        kind=payload.kind,
        note=payload.note,
    )
    return Status(201, _request_out(made))


# --- Questionnaires ---------------------------------------------------------------------------------------


@router.get(
    "/records/{patient_id}/questionnaires",
    response={200: QuestionnairesOut, **_ERRORS},
    summary="Questionnaires due (the intake, scales such as the PHQ-9), with the pages that fill them",
)
def questionnaires(request: HttpRequest, patient_id: DbId) -> dict[str, Any]:
    record, due, intakes = selectors.due_scales(viewer=api_user(request), patient_id=patient_id)
    return {
        "patient_id": record.patient.pk,
        "answered_about_the_child": record.is_guardian,
        "intakes": [
            {
                "title": "Intake questionnaire",
                "expires_at": intake.invitation.expires_at,
                "fill_url": intake.path,
            }
            for intake in intakes
        ],
        "scales": [
            {
                "request_id": scale.request.pk,
                "instrument_key": scale.request.instrument.key,
                "instrument_name": scale.instrument_name,
                "due_at": scale.due_at,
                "overdue": scale.overdue,
                "fill_url": _record_path("fill", patient_id, request_id=scale.request.pk),
            }
            for scale in due
        ],
    }


# --- Messages ---------------------------------------------------------------------------------------------


def _waiting_for(thread: selectors.Thread) -> str:
    return "you" if thread.awaiting_patient else "clinic"


def _author(message: PortalMessage) -> str:
    if message.from_staff:
        return f"{message.author.display_name} (care team)"
    return message.author.get_full_name() or message.author.username


def _thread_out(thread: selectors.Thread) -> dict[str, Any]:
    return {
        "thread_id": thread.first.pk,
        "subject": thread.first.subject,
        "topic": thread.first.topic,
        "topic_label": TOPIC_LABELS[Topic(thread.first.topic)],
        "waiting_for": _waiting_for(thread),
        "messages": [
            {
                "id": message.pk,
                "author_name": _author(message),
                "from_care_team": message.from_staff,
                "sent_at": message.sent_at,
                "body": message.body,
            }
            for message in thread.messages
        ],
    }


@router.get(
    "/records/{patient_id}/messages",
    response={200: MessagesOut, **_ERRORS},
    summary="Conversations with the care team, newest first",
)
def messages(request: HttpRequest, patient_id: DbId) -> dict[str, Any]:
    record, threads = selectors.message_threads(viewer=api_user(request), patient_id=patient_id)
    return {
        "patient_id": record.patient.pk,
        "not_for_emergencies": NOT_FOR_EMERGENCIES,
        "threads": [
            {
                "thread_id": thread.first.pk,
                "subject": thread.first.subject,
                "topic": thread.first.topic,
                "topic_label": TOPIC_LABELS[Topic(thread.first.topic)],
                "started_at": thread.first.sent_at,
                "last_message_at": thread.last.sent_at,
                "message_count": len(thread.messages),
                "waiting_for": _waiting_for(thread),
                "page_url": _record_path("message_thread", patient_id, thread_id=thread.first.pk),
            }
            for thread in threads
        ],
    }


@router.post(
    "/records/{patient_id}/messages",
    response={201: ThreadOut, **_WRITE_ERRORS},
    summary="Write to the care team: a new conversation, routed by topic (not for emergencies)",
)
def send_message(request: HttpRequest, patient_id: DbId, payload: MessageIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    sent = services.send_message(
        by=user, patient_id=patient_id, topic=payload.topic, subject=payload.subject, body=payload.body
    )
    _record, thread = selectors.message_thread(viewer=user, patient_id=patient_id, thread_id=sent.pk)
    return Status(201, _thread_out(thread))


@router.get(
    "/records/{patient_id}/messages/{thread_id}",
    response={200: ThreadOut, **_ERRORS},
    summary="Read a conversation",
)
def message_thread(request: HttpRequest, patient_id: DbId, thread_id: DbId) -> dict[str, Any]:
    _record, thread = selectors.message_thread(
        viewer=api_user(request), patient_id=patient_id, thread_id=thread_id
    )
    return _thread_out(thread)


@router.post(
    "/records/{patient_id}/messages/{thread_id}/replies",
    response={201: ThreadOut, **_WRITE_ERRORS},
    summary="Answer in a conversation",
)
def reply(
    request: HttpRequest, patient_id: DbId, thread_id: DbId, payload: ReplyIn
) -> Status[dict[str, Any]]:
    user = api_user(request)
    services.reply_as_patient(by=user, patient_id=patient_id, thread_id=thread_id, body=payload.body)
    _record, thread = selectors.message_thread(viewer=user, patient_id=patient_id, thread_id=thread_id)
    return Status(201, _thread_out(thread))


# --- Documents --------------------------------------------------------------------------------------------


def _billing_out(found: Any, patient_id: int) -> dict[str, Any]:
    superbill = reverse("billing:my_superbill_pdf", kwargs={"patient_id": patient_id})
    return {
        "page_url": reverse("billing:my"),
        "estimates": [
            {
                "estimate_id": estimate.pk,
                "number": estimate.number,
                "total": estimate.total_amount,
                "currency": estimate.currency,
                "acknowledged": hasattr(estimate, "acknowledgement"),
                "page_url": reverse("billing:my_estimate", args=[estimate.pk]),
                "download_url": reverse("billing:my_estimate_pdf", args=[estimate.pk]),
            }
            for estimate in found.estimates
        ],
        "invoices": [
            {
                "invoice_id": row.invoice.pk,
                "number": row.invoice.number,
                "issued_on": row.issued_on,
                "due_on": row.due_on,
                "total": row.invoice.total_amount,
                "balance": row.balance,
                "currency": row.invoice.currency,
                "status": row.status.value,
                "download_url": reverse("billing:my_invoice_pdf", args=[row.invoice.pk]),
            }
            for row in found.invoices
        ],
        "receipts": [
            {
                "payment_id": payment.pk,
                "number": payment.number,
                "received_on": payment.received_on,
                "amount": payment.amount,
                "currency": payment.currency,
                "download_url": reverse("billing:my_receipt_pdf", args=[payment.pk]),
            }
            for payment in found.payments
        ],
        "superbills": [
            {
                "visit_id": visit_id,
                "service_on": day,
                "download_url": f"{superbill}?visit={visit_id}&start={day.isoformat()}&end={day.isoformat()}",
            }
            for visit_id, day in found.visit_days
        ],
    }


@router.get(
    "/records/{patient_id}/documents",
    response={200: DocumentsOut, **_ERRORS},
    summary="Discharge instructions, consents, and estimates, invoices, receipts and superbills to download",
)
def documents(request: HttpRequest, patient_id: DbId) -> dict[str, Any]:
    found = selectors.documents(viewer=api_user(request), patient_id=patient_id)
    discharges = None
    if found.discharges is not None:
        discharges = [
            {
                "appointment_id": discharge.visit.appointment_id,
                "discharged_at": discharge.discharged_at,
                "instructions": discharge.instructions_text,
                "page_url": _record_path("visits", patient_id),
            }
            for discharge in found.discharges
        ]
    consents = None
    if found.consents is not None:
        consents = [
            {
                "kind": summary.kind,
                "title": summary.current_form.title if summary.current_form else summary.label,
                "version": summary.current_form.version if summary.current_form else 0,
                "status": summary.status.value,
                "signed_on": summary.latest.signed_on if summary.latest else None,
                "signer_name": summary.latest.signer_name if summary.latest else "",
                "page_url": _record_path("consent_sign", patient_id, kind=summary.kind),
            }
            for summary in found.consents
        ]
    return {
        "patient_id": found.record.patient.pk,
        "discharge_instructions": discharges,
        "consents": consents,
        "billing": _billing_out(found.billing, patient_id) if found.billing is not None else None,
    }


# --- Who looked -------------------------------------------------------------------------------------------


@router.get(
    "/records/{patient_id}/access-log",
    response={200: AccessLogOut, **_ERRORS},
    summary="Who looked at or changed the record (people; a device's readings one line a day)",
)
def access_log(request: HttpRequest, patient_id: DbId) -> dict[str, Any]:
    found = selectors.access_log(viewer=api_user(request), patient_id=patient_id)
    return {
        "patient_id": found.record.patient.pk,
        "time_zone": found.time_zone,
        "zone_label": found.zone_label,
        "lines": [
            {
                "at": line.at,
                "first_at": line.until,
                "who": line.who,
                "role": line.role,
                "what": line.what,
                "count": line.count,
                "by_device": line.by_device,
                "is_you": line.is_viewer,
            }
            for line in found.lines
        ],
    }
