"""The HL7 interface's demo: a bedside monitor mapped to every chair of the main clinic (so `make run`'s
simulated monitor reaches the live infusion over MLLP, as a real one would), and one reading from a monitor
nobody mapped yet, waiting in the review queue."""

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.interop.hl7 import rules, services, wire
from ketaclinic.interop.hl7.models import DeviceChair, InboundMessage
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.selectors import chairs_for

UNMAPPED_DEVICE = "MON-MAIN-SPARE"
QUEUED_CONTROL_ID = "DEMO-SPARE-0001"


def device_id_for(clinic: Clinic, position: int) -> str:
    return f"MON-{clinic.code.upper()}-{position:02d}"


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Map the main clinic's chairs to monitors and queue one unmapped reading; returns rows made."""
    admin, main = staff["admin"], clinics["main"]
    made = 0
    for position, chair in enumerate(chairs_for(viewer=admin, clinic=main).order_by("pk"), start=1):
        if DeviceChair.objects.filter(chair=chair).exists():
            continue
        services.map_device(by=admin, clinic=main, device_id=device_id_for(main, position), chair=chair)
        made += 1
    if not InboundMessage.objects.filter(control_id=QUEUED_CONTROL_ID).exists():
        now = rules.format_timestamp(clock.now())
        raw = wire.assemble(
            [
                wire.msh(
                    control_id=QUEUED_CONTROL_ID,
                    message_type=("ORU", "R01", "ORU_R01"),
                    sent_at=now,
                    sending="BEDSIDE-GW",
                    sending_facility="MAIN",
                    receiving="KETACLINIC",
                ),
                wire.segment("OBR", "1", "", "", "", "", "", now),
                wire.segment(
                    "OBX",
                    "1",
                    "NM",
                    ("150456", "MDC_PULS_OXIM_SAT_O2", "MDC"),
                    "",
                    "96",
                    ("262688", "MDC_DIM_PERCENT", "MDC"),
                    "",
                    "",
                    "",
                    "",
                    "R",
                    "",
                    "",
                    now,
                    "",
                    "",
                    "",
                    UNMAPPED_DEVICE,
                ),
            ]
        )
        services.receive(raw=raw, peer="demo")
        made += 1
    return made
