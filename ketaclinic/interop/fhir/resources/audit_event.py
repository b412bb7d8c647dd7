"""AuditEvent: one entry of the patient's access log (who read or changed their record, when, from where)."""

from ketaclinic.audit.models import Action
from ketaclinic.audit.models import AuditEvent as AuditEntry
from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, reference

AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
# Our actions as FHIR's audit-event-action codes (C create, R read, U update, E execute).
ACTIONS = {
    Action.VIEW: "R",
    Action.LIST: "R",
    Action.SEARCH: "E",
    Action.CREATE: "C",
    Action.UPDATE: "U",
    Action.EXPORT: "R",
    Action.SIGN_IN: "E",
    Action.SIGN_IN_FAILED: "E",
    Action.SIGN_OUT: "E",
    Action.SECOND_FACTOR: "E",
}


def build_audit_event(entry: AuditEntry) -> Resource:
    """The AuditEvent resource of one audit entry (unvalidated)."""
    # The actor by name only: a patient or guardian reading their own record is not a Practitioner.
    who = {"display": entry.actor_username} if entry.actor_username else {"display": "system"}
    agent = compact(
        {
            "type": {"text": entry.actor_role_label} if entry.actor_role else None,
            "who": who,
            "requestor": entry.actor_id is not None,
            "network": {"address": entry.ip_address, "type": "2"} if entry.ip_address else None,
        }
    )
    return compact(
        {
            "resourceType": "AuditEvent",
            "id": str(entry.pk),
            "type": {"system": AUDIT_TYPE, "code": "rest", "display": "RESTful Operation"},
            "action": ACTIONS.get(Action(entry.action), "E") if entry.action in Action.values else "E",
            "recorded": instant(entry.occurred_at),
            "outcome": "0",
            "outcomeDesc": entry.summary,
            "agent": [agent],
            "source": {"observer": {"display": f"ketaclinic ({entry.channel})"}},
            "entity": [
                compact(
                    {
                        "what": reference("Patient", entry.patient_id) if entry.patient_id else None,
                        "description": f"{entry.object_label} {entry.object_id}".strip(),
                    }
                )
            ],
        }
    )
