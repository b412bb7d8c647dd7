"""The HL7 interface's writes: receiving and applying inbound messages (inbound, with registration for
ADT), the review queue's actions (review), the device mapping and the listener's status (configuration), and
the outbound queue to a downstream system (outbound)."""

from ketaclinic.interop.hl7.services.configuration import (
    downstream,
    map_device,
    report_listener_status,
    unmap_device,
)
from ketaclinic.interop.hl7.services.inbound import (
    Received,
    latest_processing,
    process,
    receive,
    receive_batch,
    store,
)
from ketaclinic.interop.hl7.services.registration import match_patient
from ketaclinic.interop.hl7.services.review import dismiss, reprocess

__all__ = [
    "Received",
    "dismiss",
    "downstream",
    "latest_processing",
    "map_device",
    "match_patient",
    "process",
    "receive",
    "receive_batch",
    "report_listener_status",
    "reprocess",
    "store",
    "unmap_device",
]
