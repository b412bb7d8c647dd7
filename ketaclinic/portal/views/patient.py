"""A patient's or guardian's own pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketaclinic.accounts.access import actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.selectors import access_log_for_patient
from ketaclinic.audit.services import record_read
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.measures import selectors as measure_selectors
from ketaclinic.patients import selectors as patient_selectors

ACCESS_LOG_ROWS = 100


@login_required
def my_record(request: HttpRequest) -> HttpResponse:
    """A patient's (or guardian's) own details and who has looked at the record."""
    if not can(request.user, Perm.VIEW_OWN_RECORD):
        raise PermissionDenied("This page is for patients and guardians.")
    records = []
    own_records = patient_selectors.own_patient_records(user=request.user)
    due_scales = measure_selectors.own_due_scales(user=request.user, patients=own_records)
    for patient in own_records:
        record_read(
            by=actor(request),
            object_type=ObjectType.OWN_RECORD,
            object_id=patient.pk,
            patient_id=patient.pk,
            patient_record_number=patient.record_number,
            clinic_id=patient.clinic_id,
        )
        log = list(access_log_for_patient(patient_id=patient.pk)[:ACCESS_LOG_ROWS])
        records.append({"patient": patient, "access_log": log})
    return render(request, "portal/my_record.html", {"records": records, "due_scales": due_scales})
