"""The HL7 interface's writes: receiving and applying inbound messages (inbound), the device mapping and the
review queue's actions (inbound), and the outbound queue to a downstream system (outbound)."""

from ketaclinic.interop.hl7.services.inbound import (
    Received,
    dismiss,
    downstream,
    latest_processing,
    map_device,
    match_patient,
    process,
    receive,
    receive_batch,
    report_listener_status,
    reprocess,
    store,
    unmap_device,
)

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
