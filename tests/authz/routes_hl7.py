"""The HL7 interface's pages: health, device mapping, review queue, the downstream system and the outbound
queue (VIEW/MANAGE_INTERFACES)."""

from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from tests.authz.routes import get, ids, post
from tests.authz.world import World

MESSAGE = ids("message_id")


def extend_world(world: World) -> None:
    """A monitor mapped to a main-clinic chair with no open visit, and one of its readings waiting for review
    (attributed to the main clinic)."""
    from ketaclinic.core import clock
    from ketaclinic.infusions.selectors import active_visits
    from ketaclinic.interop.hl7 import rules, services
    from ketaclinic.interop.hl7.tests.helpers import sample
    from ketaclinic.scheduling.models import Chair

    busy = {visit.chair_id for visit in active_visits(clinic_ids=[world.main.pk])}
    chair = Chair.objects.filter(clinic=world.main).exclude(pk__in=busy).order_by("pk").first()
    assert chair is not None
    mapping = services.map_device(
        by=world.user("admin"), clinic=world.main, device_id="MON-AUTHZ", chair=chair
    )
    now = rules.format_timestamp(clock.now())
    received = services.receive(raw=sample("oru_r01_mdc.hl7", device="MON-AUTHZ", control="AUTHZ-1", now=now))
    world.ids["message_id"] = received.message.pk
    # A registration sent downstream that failed its tries (nothing listens on port 9): Resend's target.
    from ketaclinic.interop.hl7.models import OutboundAttempt, OutboundKind, OutboundMessage
    from ketaclinic.interop.hl7.services import outbound
    from ketaclinic.patients.models import Patient

    patient = Patient.objects.filter(clinic=world.main).order_by("pk").first()
    assert patient is not None
    sent = OutboundMessage.objects.create(
        clinic=world.main,
        kind=OutboundKind.PATIENT,
        source_key=f"patient:{patient.pk}",
        control_id="AUTHZ-OUT-1",
        payload=outbound.registration_message(patient, "AUTHZ-OUT-1"),
        created_at=clock.now(),
    )
    OutboundAttempt.objects.create(
        message=sent, attempted_at=clock.now(), number=1, error="ConnectionRefusedError: refused"
    )
    world.ids["outbound_id"] = sent.pk
    world.ids["device_mapping_id"] = mapping.pk
    world.ids["free_chair_id"] = chair.pk


def _mapping(world: World) -> dict[str, Any]:
    return {"device_id": "MON-AUTHZ-2", "chair": world.ids["free_chair_id"]}


def _downstream(world: World) -> dict[str, Any]:
    return {
        "clinic": world.main.pk,
        "host": "127.0.0.1",
        "port": "9",
        "send_scale_results": "on",
        "send_registrations": "on",
    }


ROUTES = {
    "hl7:interfaces": [
        get(P.VIEW_INTERFACES, scoped=False),
        post(P.MANAGE_INTERFACES, body=_mapping, other_clinic_status=422),
    ],
    "hl7:device_unmap": [post(P.MANAGE_INTERFACES, args=ids("device_mapping_id"), body=lambda w: {})],
    "hl7:message": [get(P.VIEW_INTERFACES, args=MESSAGE)],
    "hl7:message_reprocess": [post(P.MANAGE_INTERFACES, args=MESSAGE, body=lambda w: {})],
    "hl7:message_dismiss": [
        post(P.MANAGE_INTERFACES, args=MESSAGE, body=lambda w: {"reason": "A test message from the vendor"})
    ],
    "hl7:downstream": [
        get(P.VIEW_INTERFACES, scoped=False),
        post(P.MANAGE_INTERFACES, body=_downstream, other_clinic_status=422),
    ],
    "hl7:outbound_resend": [post(P.MANAGE_INTERFACES, args=ids("outbound_id"), body=lambda w: {})],
}
