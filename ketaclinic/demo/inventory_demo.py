"""Demo stock for the controlled-substance ledger: the standard products, a safe and a cart, a box of
ketamine 50 mg/mL, a lot of 10 mg/mL that expires soon, two cart vials, a few draws, administrations and a
witnessed waste for Lena, and an end-of-day count. Everything goes through the inventory services.

The demo is a system loader with no one at a keyboard, so witnesses are recorded as signed
(SignedWitness) without the sign-in step the pages and API require.
"""

import datetime as dt
from decimal import Decimal

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.inventory.models import (
    BusinessTime,
    CountPurpose,
    DrugProduct,
    Receipt,
    StorageLocation,
    Vial,
    WasteMethod,
)
from ketaclinic.inventory.services import counts, draws, stock
from ketaclinic.inventory.services.witness import SignedWitness
from ketaclinic.patients.models import Patient

SUPPLIER = ("Northeast Medical Supply (demo)", "400 Distribution Drive, Albany NY 12203", "RN0000000")


def _signed(user: User) -> SignedWitness:
    return SignedWitness(user=user, signed_at=clock.now())


def _location(custodian: User, clinic: Clinic, name: str, description: str) -> tuple[StorageLocation, int]:
    existing = StorageLocation.objects.filter(clinic=clinic, name=name).first()
    if existing is not None:
        return existing, 0
    return stock.add_location(by=custodian, clinic=clinic, name=name, description=description), 1


def receive(
    custodian: User,
    witness: User,
    clinic: Clinic,
    *,
    ndc: str,
    lot: str,
    vials: int,
    expires_on: dt.date,
    invoice: str,
    location: StorageLocation,
) -> Receipt:
    product = DrugProduct.objects.get(clinic=clinic, ndc=ndc)
    name, address, dea = SUPPLIER
    return stock.receive_delivery(
        by=custodian,
        clinic=clinic,
        product=product,
        ndc=ndc,
        lot=lot,
        expires_on=expires_on,
        vial_count=vials,
        invoice_number=invoice,
        supplier_name=name,
        supplier_address=address,
        supplier_dea_number=dea,
        location=location,
        received_on=clock.today_in(clinic.time_zone),
        witness=_signed(witness),
    )


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Create the demo stock where missing; returns how many rows were made (0 the second time)."""
    clinic = clinics["main"]
    custodian, nurse, clinician = staff["custodian"], staff["nurse"], staff["drchen"]
    made = stock.ensure_standard_products(clinic=clinic)
    safe, added = _location(custodian, clinic, "Safe", "Double-locked safe in the medication room")
    made += added
    cart, added = _location(custodian, clinic, "Cart 1", "Locked drawer of the infusion cart")
    made += added
    if Receipt.objects.filter(clinic=clinic).exists():
        return made
    today = clock.today_in(clinic.time_zone)
    box = receive(
        custodian,
        clinician,
        clinic,
        ndc="00000-0050-10",
        lot="KD2611A",
        vials=10,
        expires_on=today + dt.timedelta(days=420),
        invoice="NMS-48213",
        location=safe,
    )
    expiring = receive(
        custodian,
        clinician,
        clinic,
        ndc="00000-0010-20",
        lot="KX2601",
        vials=2,
        expires_on=today + dt.timedelta(days=40),
        invoice="NMS-47760",
        location=safe,
    )
    made += 2 + box.vial_count + expiring.vial_count
    first, second = list(Vial.objects.filter(receipt=box).order_by("pk")[:2])
    made += len(
        stock.transfer_vials(
            by=custodian,
            clinic=clinic,
            vial_ids=[first.pk, second.pk],
            to_location=cart,
            witness=_signed(nurse),
        )
    )
    lena = patients["lena"]
    for drawn_mg, given_mg in ((Decimal(35), Decimal(35)), (Decimal(40), Decimal(36))):
        draw = draws.draw_from_vial(by=nurse, vial_id=first.pk, amount_mg=drawn_mg, patient=lena)
        draws.record_administration(by=nurse, draw_id=draw.pk, amount_mg=given_mg)
        made += 2
        if drawn_mg > given_mg:
            draws.record_waste(
                by=nurse,
                draw_id=draw.pk,
                amount_mg=drawn_mg - given_mg,
                method=WasteMethod.DENATURING_CONTAINER,
                reason="rest of the syringe after the infusion",
                witness=_signed(clinician),
            )
            made += 1
    cart_vials = counts.vials_to_count(clinic=clinic, location=cart)
    count = counts.record_count(
        by=nurse,
        clinic=clinic,
        location=cart,
        purpose=CountPurpose.END_OF_DAY,
        business_time=BusinessTime.CLOSE,
        counted_ml={vial.pk: vial.balance_ml for vial in cart_vials},
        witness=_signed(custodian),
    )
    made += 1 + count.lines.count()
    return made
