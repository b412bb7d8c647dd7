"""The infusion visit over JSON: the same permissions, clinic scoping, rules and audit as the chair pages,
one module per subject: `visit` (opening, the checklist, the pump, vital signs and alerts, withdrawals, the
record), `care` (side effects, rescue drugs, the serious-event review, the ketamine left over) and
`discharge` (recovery scores, readiness, discharge and its override requests, signatures). Domain errors
become 4xx JSON with a code and a message through the API's one exception handler.

Every operation names its `operation_id`: django-ninja would derive it from the module, so moving an
operation between modules would rename it for every client generated from the document. The ids are the
ones the operations had before the API was split into modules."""

from ninja import Router

from ketaclinic.infusions.api import care, discharge, visit

router = Router(tags=["infusions"])
router.add_router("", visit.router)
router.add_router("", care.router)
router.add_router("", discharge.router)
