"""The allergy banner shown on every clinical page of a patient (patient page, chair, dose order, plan)."""

from typing import Any

from django import template

from ketaclinic.patients import selectors
from ketaclinic.patients.models import Patient

register = template.Library()


@register.simple_tag(takes_context=True)
def allergy_banner_record(context: dict[str, Any], patient: Patient) -> selectors.AllergyRecord | None:
    """The patient's allergy record for the signed-in viewer (None when they may not see it)."""
    request = context.get("request")
    if request is None or patient is None:
        return None
    return selectors.allergy_banner(viewer=request.user, patient=patient)
