"""Stock built through the real services, as the custodian and nurses would."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.test import RequestFactory

from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.inventory.models import DrugProduct, Receipt, StorageLocation
from ketaclinic.inventory.services import stock, witness
from ketaclinic.inventory.services.witness import SignedWitness, WitnessCredentials

TEST_PASSWORD = "correct-horse-battery-staple"


def signed(user: Any, by: Any, clinic: Clinic, otp_token: str = "") -> SignedWitness:
    """`user` signs in as witness for `by` through the real check (password and, if needed, a code)."""
    request = RequestFactory().post("/inventory/")
    return witness.verify_witness(
        by=by,
        clinic=clinic,
        credentials=WitnessCredentials(username=user.username, password=TEST_PASSWORD, otp_token=otp_token),
        request=request,
    )


def trusted(user: Any) -> SignedWitness:
    """A witness signature without the sign-in step, for tests about something else."""
    return SignedWitness(user=user, signed_at=clock.now())


def product(clinic: Clinic, ndc: str = "00000-0050-10") -> DrugProduct:
    stock.ensure_standard_products(clinic=clinic)
    return DrugProduct.objects.get(clinic=clinic, ndc=ndc)


def location(by: Any, clinic: Clinic, name: str = "Safe") -> StorageLocation:
    existing = StorageLocation.objects.filter(clinic=clinic, name=name).first()
    return existing or stock.add_location(by=by, clinic=clinic, name=name)


def receive(
    custodian: Any,
    witness_user: Any,
    clinic: Clinic,
    *,
    vials: int = 2,
    ndc: str = "00000-0050-10",
    lot: str = "LOT-A1",
    expires_on: dt.date | None = None,
    where: StorageLocation | None = None,
) -> Receipt:
    drug = product(clinic, ndc)
    today = clock.today_in(clinic.time_zone)
    return stock.receive_delivery(
        by=custodian,
        clinic=clinic,
        product=drug,
        ndc=ndc,
        lot=lot,
        expires_on=expires_on or today + dt.timedelta(days=365),
        vial_count=vials,
        invoice_number="INV-1001",
        supplier_name="Cardinal Example Supply",
        supplier_address="1 Warehouse Way, Columbus OH 43004",
        supplier_dea_number="RC0000000",
        location=where or location(custodian, clinic),
        received_on=today,
        witness=trusted(witness_user),
    )


def mg(value: str) -> Decimal:
    return Decimal(value)
