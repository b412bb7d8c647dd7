"""The public inquiry and the front desk's queue."""

import datetime as dt
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.core.ratelimit import count_hit
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import Patient
from ketaclinic.screening.errors import RateLimited, ScreeningDomainError, ScreeningError
from ketaclinic.screening.models import ContactMethod, HeardFrom, Inquiry, InquiryNote, InquiryStatus
from ketaclinic.screening.services._common import audit

# Operations setting, not a clinical value: a person asks one or two questions; a script asks hundreds. Five
# an hour per client address lets a family share a connection and still stops a flood.
INQUIRIES_PER_ADDRESS_PER_HOUR = 5
QUESTION_MAX_LENGTH = 1000


RATE_WINDOW = dt.timedelta(hours=1)


def check_rate(*, client_address: str) -> None:
    """Count one inquiry for the address in this clock hour; RateLimited (429) past the limit. Counted in the
    database (`core.ratelimit`), so every web process counts together; the address is stored only hashed."""
    hits = count_hit(
        key=f"screening:inquiry:{client_address or 'unknown'}", now=clock.now(), window=RATE_WINDOW
    )
    if hits > INQUIRIES_PER_ADDRESS_PER_HOUR:
        raise RateLimited("Too many messages from your connection in the last hour. Please call us instead.")


@transaction.atomic
def submit_inquiry(
    *,
    clinic: Clinic,
    name: str,
    contact_method: ContactMethod,
    contact_value: str,
    heard_from: HeardFrom,
    question: str,
) -> Inquiry:
    """A question from the public page (no one signed in). The rate limit is checked by the caller."""
    if len(question) > QUESTION_MAX_LENGTH:
        raise ScreeningDomainError(
            ScreeningError.INVALID,
            f"Keep the question under {QUESTION_MAX_LENGTH} characters.",
            field="question",
        )
    inquiry = Inquiry(
        clinic=clinic,
        name=name.strip(),
        contact_method=contact_method,
        contact_value=contact_value.strip(),
        heard_from=heard_from,
        question=question.strip(),
        received_at=clock.now(),
    )
    inquiry.save()
    audit(None, None, Action.CREATE, ObjectType.INQUIRY, inquiry.pk, "inquiry received from the public page")
    return inquiry


def _require_inquiry(by: Actor, inquiry: Inquiry) -> None:
    require(by, Perm.MANAGE_INQUIRIES)
    if not clinics_for(by).filter(pk=inquiry.clinic_id).exists():
        raise NotFound("No such inquiry in your clinics.")


@transaction.atomic
def set_inquiry_status(*, by: Actor, inquiry: Inquiry, status: InquiryStatus) -> Inquiry:
    _require_inquiry(by, inquiry)
    if inquiry.status == status:
        return inquiry
    previous = inquiry.status
    inquiry.status = status
    inquiry._history_user = by  # type: ignore[attr-defined]
    inquiry.save()
    audit(
        by, inquiry.patient, Action.UPDATE, ObjectType.INQUIRY, inquiry.pk, f"status {previous} -> {status}"
    )
    return inquiry


@transaction.atomic
def add_inquiry_note(*, by: Actor, inquiry: Inquiry, text: str) -> InquiryNote:
    _require_inquiry(by, inquiry)
    if not text.strip():
        raise ScreeningDomainError(ScreeningError.INVALID, "Write the note.", field="text")
    note = InquiryNote.objects.create(
        inquiry=inquiry, text=text.strip(), written_by=by, written_at=clock.now()
    )
    audit(by, inquiry.patient, Action.CREATE, ObjectType.INQUIRY_NOTE, note.pk, "note added to inquiry")
    return note


def registration_initial(inquiry: Inquiry) -> dict[str, Any]:
    """What the inquiry already tells the registration form: the name split in two, and the contact."""
    given, _, family = inquiry.name.strip().rpartition(" ")
    initial: dict[str, Any] = {
        "legal_given_name": given or family,
        "legal_family_name": family if given else "",
    }
    if inquiry.contact_method == ContactMethod.EMAIL:
        initial["email"] = inquiry.contact_value
    else:
        initial["phone"] = inquiry.contact_value
    return initial


@transaction.atomic
def register_patient_from_inquiry(
    *,
    by: Actor,
    inquiry: Inquiry,
    clinic: Clinic,
    details: dict[str, Any],
    guardian: patient_services.GuardianDetails | None = None,
) -> Patient:
    """Register the person who asked (patients' own rules apply) and link the inquiry to the new record;
    the inquiry moves to 'booked for assessment'."""
    _require_inquiry(by, inquiry)
    if inquiry.patient_id is not None:
        raise ScreeningDomainError(
            ScreeningError.ALREADY_LINKED, "This inquiry is already linked to a patient."
        )
    patient = patient_services.register_patient(by=by, clinic=clinic, details=details, guardian=guardian)
    inquiry.patient = patient
    inquiry.status = InquiryStatus.BOOKED
    inquiry._history_user = by  # type: ignore[attr-defined]
    inquiry.save()
    audit(
        by, patient, Action.UPDATE, ObjectType.INQUIRY, inquiry.pk, "registered as a patient from the inquiry"
    )
    return patient
