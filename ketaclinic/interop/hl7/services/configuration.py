"""The HL7 interface's configuration and state: which chair a device stands at, the listener's status row,
and the downstream system from the settings."""

import datetime as dt

from django.conf import settings
from django.db import transaction

from ketaclinic.accounts.access import Actor, require, require_clinic
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.interop.hl7.errors import Hl7Error, Hl7ErrorCode
from ketaclinic.interop.hl7.models import (
    DeviceChair,
    ListenerStatus,
)
from ketaclinic.scheduling.models import Chair


@transaction.atomic
def map_device(*, by: Actor, clinic: Clinic, device_id: str, chair: Chair) -> DeviceChair:
    """Say which chair a monitor stands at (a new mapping, or moving the device to another chair)."""
    require(by, Perm.MANAGE_INTERFACES)
    require_clinic(by, clinic.pk, what="clinic")
    device = device_id.strip()
    if not device or len(device) > 80 or any(char in device for char in "|^~\\&\r\n"):
        raise Hl7Error(
            Hl7ErrorCode.INVALID,
            "Enter the device identifier as the monitor sends it (up to 80 characters).",
            field="device_id",
        )
    if chair.clinic_id != clinic.pk:
        raise Hl7Error(Hl7ErrorCode.INVALID, "Choose a chair of this clinic.", field="chair")
    existing = DeviceChair.objects.select_for_update().filter(device_id=device).first()
    if existing is not None and existing.clinic_id != clinic.pk:
        raise Hl7Error(
            Hl7ErrorCode.DEVICE_TAKEN, "That device is mapped at another clinic.", field="device_id"
        )
    now = clock.now()
    if existing is None:
        mapping = DeviceChair.objects.create(clinic=clinic, device_id=device, chair=chair, changed_at=now)
        action = Action.CREATE
    else:
        existing.chair = chair
        existing.is_active = True
        existing.changed_at = now
        existing.save(update_fields=["chair", "is_active", "changed_at"])
        mapping, action = existing, Action.UPDATE
    record_change(
        by=by,
        action=action,
        object_type=ObjectType.HL7_DEVICE_CHAIR,
        object_id=mapping.pk,
        clinic_id=clinic.pk,
        summary=f"Device {device} at {chair.name}",
    )
    return mapping


@transaction.atomic
def unmap_device(*, by: Actor, mapping: DeviceChair) -> DeviceChair:
    """Stop routing a device's readings to a chair (its messages then wait for review)."""
    require(by, Perm.MANAGE_INTERFACES)
    require_clinic(by, mapping.clinic_id, what="device")
    mapping.is_active = False
    mapping.changed_at = clock.now()
    mapping.save(update_fields=["is_active", "changed_at"])
    record_change(
        by=by,
        action=Action.UPDATE,
        object_type=ObjectType.HL7_DEVICE_CHAIR,
        object_id=mapping.pk,
        clinic_id=mapping.clinic_id,
        summary=f"Device {mapping.device_id} unmapped",
    )
    return mapping


# --- the listener's own report ---


def report_listener_status(
    *,
    address: str,
    started_at: dt.datetime,
    open_connections: int,
    total_connections: int,
    messages_handled: int,
    last_error: str,
    last_error_at: dt.datetime | None,
) -> None:
    """Overwrite the listener's status row (operational state for the health page, not a record)."""
    ListenerStatus.objects.update_or_create(
        address=address,
        defaults={
            "started_at": started_at,
            "heartbeat_at": clock.now(),
            "open_connections": open_connections,
            "total_connections": total_connections,
            "messages_handled": messages_handled,
            "last_error": last_error[:300],
            "last_error_at": last_error_at,
        },
    )


def downstream() -> tuple[str, int] | None:
    """The configured downstream system (`KETACLINIC_HL7_DOWNSTREAM`, host:port), None when there is none."""
    target = str(getattr(settings, "KETACLINIC_HL7_DOWNSTREAM", "") or "")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return None
    return host, int(port)
