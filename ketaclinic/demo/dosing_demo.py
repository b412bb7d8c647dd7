"""Demo dose orders, made through the dosing services: Lena's order, signed by Dr Chen and co-signed by the
nurse, after her signed eligibility decision (screening demo). Idempotent: a second call makes nothing."""

from decimal import Decimal

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.dosing import services
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderCosignature
from ketaclinic.patients.models import Patient


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Create the demo orders that are missing; return how many rows were made."""
    lena = patients["lena"]
    if DoseOrder.objects.filter(patient=lena).exists():
        return 0
    order = services.prescribe_dose_order(
        by=staff["drchen"],
        patient=lena,
        draft=services.OrderDraft(
            weight_kg=Decimal("64.0"),
            weight_measured_on=clock.today_in(lena.clinic.time_zone),
            height_cm=Decimal(168),
            dose_mg_per_kg=Decimal("0.5"),
            duration_min=40,
            vial_concentration_mg_per_ml=Decimal(50),
            diluent_volume_ml=Decimal(100),
            note="First infusion of the induction series. Music and eye mask at her request.",
        ),
    )
    services.cosign_dose_order(by=staff["nurse"], order=order, entered_rate_ml_per_h=order.rate_ml_per_h)
    return (
        DoseOrder.objects.filter(patient=lena).count()
        + HardStopOverride.objects.filter(order__patient=lena).count()
        + OrderCosignature.objects.filter(order__patient=lena).count()
    )
