"""Reads of the inquiry queue (no health information; a patient's record number once linked)."""

from typing import Any

from django.db.models import QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core.errors import NotFound
from ketaclinic.screening.models import Inquiry, InquiryStatus

INQUIRY_PAGE_SIZE = 50


def inquiries_for(*, viewer: Who, status: str = "") -> list[Inquiry]:
    """The queue of the viewer's clinics, newest first; open ones (not closed) unless a status is asked."""
    require(viewer, Perm.MANAGE_INQUIRIES)
    found = Inquiry.objects.filter(clinic__in=clinics_for(viewer)).select_related("clinic", "patient")
    if status in InquiryStatus.values:
        found = found.filter(status=status)
    else:
        found = found.exclude(status=InquiryStatus.CLOSED)
    inquiries = list(found[:INQUIRY_PAGE_SIZE])
    record_read(
        by=viewer, action=Action.LIST, object_type=ObjectType.INQUIRY, summary=f"{len(inquiries)} inquiries"
    )
    return inquiries


def inquiry_for(*, viewer: Who, inquiry_id: int) -> Inquiry:
    require(viewer, Perm.MANAGE_INQUIRIES)
    inquiry = (
        Inquiry.objects.filter(clinic__in=clinics_for(viewer), pk=inquiry_id)
        .select_related("clinic", "patient")
        .first()
    )
    if inquiry is None:
        raise NotFound("No such inquiry in your clinics.")
    record_read(
        by=viewer,
        object_type=ObjectType.INQUIRY,
        object_id=inquiry.pk,
        patient_id=inquiry.patient_id,
        patient_record_number=inquiry.patient.record_number if inquiry.patient else "",
        clinic_id=inquiry.clinic_id,
    )
    return inquiry


def active_clinics() -> QuerySet[Any]:
    """Clinics a member of the public can address a question to."""
    from ketaclinic.core.models import Clinic

    return Clinic.objects.filter(is_active=True).order_by("name")


def new_inquiry_count(*, viewer: Who) -> int:
    require(viewer, Perm.MANAGE_INQUIRIES)
    return Inquiry.objects.filter(clinic__in=clinics_for(viewer), status=InquiryStatus.NEW).count()
