"""CarePlan: a treatment plan as its newest signed version states it (a draft while none is signed):
the induction series, what follows it, and the psychotherapy planned around it."""

import datetime as dt

from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, plain_number, reference
from ketaclinic.plans.models import AfterSeriesChoice, PhaseChoice, PlanContent, PlanVersion, TreatmentPlan


def _summary(content: PlanContent) -> str:
    parts = [
        f"Phase: {PhaseChoice(content.phase).label}.",
        f"Induction: {content.induction_infusion_count} infusions within {content.induction_span_days} days, "
        f"at most {content.infusions_per_week_max} a week, starting at "
        f"{plain_number(content.start_dose_mg_per_kg)} mg/kg.",
        f"After the series: {AfterSeriesChoice(content.after_series).label}.",
    ]
    if content.psychotherapy_preparation_sessions or content.psychotherapy_integration_sessions:
        parts.append(
            f"Psychotherapy: {content.psychotherapy_preparation_sessions} preparation and "
            f"{content.psychotherapy_integration_sessions} integration sessions."
        )
    return " ".join(parts)


def _activity(description: str, status: str) -> Resource:
    return {"detail": {"status": status, "description": description}}


def build_care_plan(
    plan: TreatmentPlan,
    *,
    version: PlanVersion | None,
    content: PlanContent | None,
    ended_at: dt.datetime | None,
) -> Resource:
    """The CarePlan of a plan (unvalidated): `version` is its newest signed version, `content` what it says
    (that version, or the newest draft), `ended_at` when the plan ended."""
    if ended_at:
        status = "completed"
    elif version is not None:
        status = "active"
    else:
        status = "draft"
    activities: list[Resource] = []
    if content is not None:
        activity_status = "completed" if ended_at else ("not-started" if version is None else "in-progress")
        activities.append(
            _activity(
                f"Ketamine infusions: {content.induction_infusion_count} in the induction series.",
                activity_status,
            )
        )
        sessions = content.psychotherapy_preparation_sessions + content.psychotherapy_integration_sessions
        if sessions:
            activities.append(_activity(f"Psychotherapy: {sessions} sessions.", activity_status))
    return compact(
        {
            "resourceType": "CarePlan",
            "id": str(plan.pk),
            "status": status,
            "intent": "plan",
            "title": "Ketamine treatment plan" + (f", version {version.number}" if version else " (draft)"),
            "description": _summary(content) if content else None,
            "subject": reference("Patient", plan.patient_id),
            "period": compact(
                {
                    "start": instant(version.signed_at) if version else None,
                    "end": instant(ended_at) if ended_at else None,
                }
            ),
            "created": instant(plan.created_at),
            "author": reference("Practitioner", version.signed_by_id if version else plan.created_by_id),
            "activity": activities,
        }
    )
