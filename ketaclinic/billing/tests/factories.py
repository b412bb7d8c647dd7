"""Billing test state made through the real services: a clinic price list and delivered infusion visits
(checked in, PHQ-9 given, pump started and stopped after 41 minutes under a pinned clock)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from ketaclinic.billing import services
from ketaclinic.billing.models import PriceItem, ServiceKey
from ketaclinic.core.models import Clinic
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.tests.factories import pre_infusion_scales
from ketaclinic.infusions.tests.factories_care import make_ready_visit, start, stop

D = Decimal
PRICES_FROM = dt.date(2026, 1, 1)
PRICES = {
    ServiceKey.ASSESSMENT: ("90792", "Psychiatric diagnostic evaluation", D("350.00")),
    ServiceKey.INFUSION_FIRST_HOUR: ("96365", "IV infusion, first hour", D("450.00")),
    ServiceKey.INFUSION_ADDITIONAL_HOUR: ("96366", "IV infusion, each additional hour", D("150.00")),
    ServiceKey.INFUSION_PUSH: ("96374", "IV push", D("200.00")),
    ServiceKey.KETAMINE_DRUG: ("J3490", "Ketamine HCl (unclassified drug)", D("45.50")),
    ServiceKey.SCALE: ("96127", "Brief emotional/behavioural assessment", D("12.25")),
    ServiceKey.PSYCHOTHERAPY: ("90834", "Psychotherapy, 45 minutes", D("180.00")),
}


def price_list(clinic_admin: Any, clinic: Clinic) -> dict[str, PriceItem]:
    rows = {
        key.value: services.set_price(
            by=clinic_admin,
            clinic=clinic,
            service_key=key,
            code=code,
            name=name,
            unit_price=price,
            effective_from=PRICES_FROM,
        )
        for key, (code, name, price) in PRICES.items()
    }
    rows[ServiceKey.INDUCTION_SERIES] = services.set_price(
        by=clinic_admin,
        clinic=clinic,
        service_key=ServiceKey.INDUCTION_SERIES,
        code="",
        name="Induction series of 6",
        unit_price=D("2700.00"),
        effective_from=PRICES_FROM,
        sessions=6,
    )
    return rows


def delivered_visit(clock: Any, front_desk: Any, clinician: Any, nurse: Any, clinic: Clinic) -> InfusionVisit:
    """A visit whose infusion ran 41 minutes, with one PHQ-9 given that day."""
    visit = make_ready_visit(front_desk, clinician, nurse, clinic)
    pre_infusion_scales(nurse, visit)
    start(nurse, visit)
    clock.advance(41)
    stop(nurse, visit)
    return visit
