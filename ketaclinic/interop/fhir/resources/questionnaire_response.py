"""QuestionnaireResponse: the answers of one completed scale, item by item, as they were given."""

from collections.abc import Mapping
from typing import Any

from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, reference
from ketaclinic.measures.models import Administration, SubmittedVia


def questionnaire_url(key: str, version: int) -> str:
    return f"urn:ketaclinic:instrument:{key}|{version}"


def build_questionnaire_response(administration: Administration) -> Resource:
    """The QuestionnaireResponse of a scale (unvalidated); `administration.instrument` must be loaded. The
    patient is the source when they answered it themselves (a link or the portal)."""
    definition: Mapping[str, Any] = administration.instrument.definition
    texts = {item["key"]: item.get("text", "") for item in definition.get("items", [])}
    items = [
        compact({"linkId": key, "text": texts.get(key, ""), "answer": [{"valueInteger": answer}]})
        for key, answer in administration.answers.items()
        if isinstance(answer, int) and not isinstance(answer, bool)
    ]
    self_reported = administration.submitted_via in (SubmittedVia.LINK, SubmittedVia.PORTAL)
    return compact(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(administration.pk),
            "questionnaire": questionnaire_url(
                administration.instrument.key, administration.instrument.version
            ),
            "status": "amended" if administration.corrects_id else "completed",
            "subject": reference("Patient", administration.patient_id),
            "authored": instant(administration.administered_at),
            "author": (
                reference("Practitioner", administration.entered_by_id)
                if administration.entered_by_id
                else None
            ),
            "source": reference("Patient", administration.patient_id) if self_reported else None,
            "item": items,
        }
    )
