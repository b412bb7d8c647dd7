"""The chart timeline page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import ObjectType
from ketaclinic.notes.selectors.timeline import KINDS, patient_timeline
from ketaclinic.patients.selectors import patient_for


@login_required
@require_GET
def timeline(request: HttpRequest, patient_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.VIEW_NOTES)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.CHART_TIMELINE)
    only = [kind for kind in request.GET.getlist("show") if kind in KINDS]
    page = patient_timeline(viewer=by, patient=patient, only=only or None)
    return render(request, "notes/timeline.html", {"patient": patient, "page": page, "filtered": bool(only)})
