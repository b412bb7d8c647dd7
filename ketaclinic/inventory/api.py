"""The ledger over JSON: the same services, permissions, clinic scoping and audit as the pages. A witness
signs with their own credentials in the request body (`witness`), checked like the form's."""

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.access import require_any
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.api import api_user
from ketaclinic.core.errors import DomainError, ErrorCode
from ketaclinic.core.models import Clinic
from ketaclinic.inventory import rules
from ketaclinic.inventory.models import Discrepancy, LedgerEntry, Receipt, Vial
from ketaclinic.inventory.schemas import (
    AdministrationIn,
    ChainOut,
    CountIn,
    CountOut,
    DiscrepancyOut,
    DrawIn,
    EntryOut,
    LocationIn,
    LocationOut,
    ProductOut,
    ReceiptIn,
    ReceiptOut,
    ReconciliationOut,
    RemovalIn,
    ResolutionIn,
    TransferIn,
    VialOut,
    WasteIn,
    WitnessIn,
)
from ketaclinic.inventory.selectors import stock as selectors
from ketaclinic.inventory.services import chain, counts, draws, stock, witness
from ketaclinic.inventory.services.witness import SignedWitness, WitnessCredentials
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_for

router = Router(tags=["inventory"])


def _clinic(request: HttpRequest, clinic_id: int | None = None) -> Clinic:
    return selectors.clinic_for(viewer=api_user(request), clinic_id=clinic_id)


def _signed(request: HttpRequest, clinic: Clinic, payload: WitnessIn) -> SignedWitness:
    return witness.verify_witness(
        by=api_user(request),
        clinic=clinic,
        credentials=WitnessCredentials(
            username=payload.username, password=payload.password, otp_token=payload.otp_token
        ),
        request=request,
    )


def _discrepancy_out(discrepancy: Discrepancy) -> dict[str, Any]:
    resolution = getattr(discrepancy, "resolution", None)
    return {
        "id": discrepancy.pk,
        "product_id": discrepancy.product_id,
        "vial_id": discrepancy.vial_id,
        "source": discrepancy.source,
        "dose_order_id": discrepancy.dose_order_id,
        "expected_mg": discrepancy.expected_mg,
        "found_mg": discrepancy.found_mg,
        "expected_ml": discrepancy.expected_ml,
        "found_ml": discrepancy.found_ml,
        "opened_at": discrepancy.opened_at,
        "resolved": resolution is not None,
        "resolution_kind": resolution.kind if resolution is not None else None,
    }


@router.get("/products", response=list[ProductOut], summary="Drug products of a clinic")
def list_products(request: HttpRequest, clinic_id: int | None = None) -> Any:
    require_any(api_user(request), Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    return list(selectors.products_for(viewer=api_user(request), clinic=_clinic(request, clinic_id)))


@router.get("/locations", response=list[LocationOut], summary="Storage locations")
def list_locations(request: HttpRequest, clinic_id: int | None = None) -> Any:
    require_any(api_user(request), Perm.VIEW_STOCK)
    return list(selectors.locations_for(viewer=api_user(request), clinic=_clinic(request, clinic_id)))


@router.post("/locations", response={201: LocationOut}, summary="Add a storage location")
def create_location(request: HttpRequest, payload: LocationIn) -> Status[Any]:
    require_any(api_user(request), Perm.MANAGE_STOCK)
    location = stock.add_location(
        by=api_user(request),
        clinic=_clinic(request, payload.clinic_id),
        name=payload.name,
        description=payload.description,
    )
    return Status(201, location)


@router.get("/vials", response=list[VialOut], summary="Vials in stock")
def list_vials(request: HttpRequest, clinic_id: int | None = None) -> Any:
    require_any(api_user(request), Perm.VIEW_STOCK)
    return list(selectors.vials_in_stock(viewer=api_user(request), clinic=_clinic(request, clinic_id)))


@router.get("/vials/{vial_id}", response=VialOut, summary="One vial and its balance")
def read_vial(request: HttpRequest, vial_id: int) -> Vial:
    return selectors.vial_for(viewer=api_user(request), vial_id=vial_id)


@router.post("/receipts", response={201: ReceiptOut}, summary="Receive a delivery (with a witness)")
def create_receipt(request: HttpRequest, payload: ReceiptIn) -> Status[Any]:
    require_any(api_user(request), Perm.MANAGE_STOCK)
    user = api_user(request)
    product = selectors.product_for(viewer=user, product_id=payload.product_id)
    location = selectors.location_for(viewer=user, location_id=payload.location_id)
    clinic = product.clinic
    signed = _signed(request, clinic, payload.witness)
    receipt: Receipt = stock.receive_delivery(
        by=user,
        clinic=clinic,
        product=product,
        ndc=payload.ndc,
        lot=payload.lot,
        expires_on=payload.expires_on,
        vial_count=payload.vial_count,
        invoice_number=payload.invoice_number,
        supplier_name=payload.supplier_name,
        supplier_address=payload.supplier_address,
        supplier_dea_number=payload.supplier_dea_number,
        location=location,
        received_on=payload.received_on,
        witness=signed,
        note=payload.note,
    )
    body = {
        "id": receipt.pk,
        "product_id": receipt.product_id,
        "lot": receipt.lot,
        "vial_count": receipt.vial_count,
        "vial_ids": list(receipt.vials.order_by("pk").values_list("pk", flat=True)),
    }
    return Status(201, body)


@router.post("/transfers", response={201: list[EntryOut]}, summary="Move vials (with a witness)")
def create_transfer(request: HttpRequest, payload: TransferIn) -> Status[Any]:
    require_any(api_user(request), Perm.MANAGE_STOCK)
    user = api_user(request)
    location = selectors.location_for(viewer=user, location_id=payload.to_location_id)
    signed = _signed(request, location.clinic, payload.witness)
    entries = stock.transfer_vials(
        by=user, clinic=location.clinic, vial_ids=payload.vial_ids, to_location=location, witness=signed
    )
    return Status(201, entries)


@router.post("/draws", response={201: EntryOut}, summary="Draw a dose from a vial for a patient")
def create_draw(request: HttpRequest, payload: DrawIn) -> Status[LedgerEntry]:
    require_any(api_user(request), Perm.DRAW_STOCK)
    user = api_user(request)
    vial = selectors.vial_for(viewer=user, vial_id=payload.vial_id)
    patient: Patient = patient_for(viewer=user, patient_id=payload.patient_id)
    entry = draws.draw_from_vial(
        by=user,
        vial_id=vial.pk,
        amount_mg=payload.amount_mg,
        patient=patient,
        dose_order_id=payload.dose_order_id,
        visit_id=payload.visit_id,
    )
    return Status(201, entry)


@router.post("/administrations", response={201: EntryOut}, summary="Record what of a draw was given")
def create_administration(request: HttpRequest, payload: AdministrationIn) -> Status[LedgerEntry]:
    require_any(api_user(request), Perm.DRAW_STOCK)
    user = api_user(request)
    open_draw = selectors.draw_for(viewer=user, draw_id=payload.draw_id)
    entry = draws.record_administration(
        by=user, draw_id=open_draw.draw.pk, amount_mg=payload.amount_mg, visit_id=payload.visit_id
    )
    return Status(201, entry)


@router.post("/wastes", response={201: EntryOut}, summary="Waste what was drawn but not given (witnessed)")
def create_waste(request: HttpRequest, payload: WasteIn) -> Status[LedgerEntry]:
    require_any(api_user(request), Perm.DRAW_STOCK)
    user = api_user(request)
    open_draw = selectors.draw_for(viewer=user, draw_id=payload.draw_id)
    signed = _signed(request, open_draw.draw.clinic, payload.witness)
    entry = draws.record_waste(
        by=user,
        draw_id=open_draw.draw.pk,
        amount_mg=payload.amount_mg,
        method=payload.method,
        reason=payload.reason,
        witness=signed,
    )
    return Status(201, entry)


@router.get(
    "/dose-orders/{dose_order_id}/reconciliation",
    response=ReconciliationOut,
    summary="Drawn, given and wasted for a dose order",
)
def read_reconciliation(request: HttpRequest, dose_order_id: int, clinic_id: int | None = None) -> Any:
    require_any(api_user(request), Perm.VIEW_STOCK)
    clinic = _clinic(request, clinic_id)
    result = draws.reconciliation_of(clinic_id=clinic.pk, dose_order_id=dose_order_id)
    return _reconciliation_out(dose_order_id, result, None)


@router.post(
    "/dose-orders/{dose_order_id}/reconcile",
    response=ReconciliationOut,
    summary="Close the books on a dose order; a gap opens a discrepancy",
)
def reconcile(request: HttpRequest, dose_order_id: int, clinic_id: int | None = None) -> Any:
    require_any(api_user(request), Perm.DRAW_STOCK)
    clinic = _clinic(request, clinic_id)
    result, discrepancy = draws.reconcile_dose_order(
        by=api_user(request), clinic=clinic, dose_order_id=dose_order_id
    )
    return _reconciliation_out(dose_order_id, result, discrepancy)


def _reconciliation_out(
    dose_order_id: int, result: rules.Reconciliation, discrepancy: Discrepancy | None
) -> dict[str, Any]:
    return {
        "dose_order_id": dose_order_id,
        "drawn_mg": result.drawn_mg,
        "given_mg": result.given_mg,
        "wasted_mg": result.wasted_mg,
        "gap_mg": result.gap_mg,
        "balanced": result.balanced,
        "discrepancy_id": discrepancy.pk if discrepancy else None,
    }


@router.post("/removals", response={201: EntryOut}, summary="Remove expired or damaged stock (witnessed)")
def create_removal(request: HttpRequest, payload: RemovalIn) -> Status[LedgerEntry]:
    require_any(api_user(request), Perm.MANAGE_STOCK)
    user = api_user(request)
    vial = selectors.vial_for(viewer=user, vial_id=payload.vial_id)
    signed = _signed(request, vial.clinic, payload.witness)
    entry = stock.remove_vial(
        by=user,
        clinic=vial.clinic,
        vial_id=vial.pk,
        reason=payload.reason,
        method=payload.method,
        note=payload.note,
        witness=signed,
    )
    return Status(201, entry)


@router.post("/counts", response={201: CountOut}, summary="Record a count by two people")
def create_count(request: HttpRequest, payload: CountIn) -> Status[Any]:
    require_any(api_user(request), Perm.COUNT_STOCK)
    user = api_user(request)
    clinic = _clinic(request, payload.clinic_id)
    location = (
        selectors.location_for(viewer=user, location_id=payload.location_id) if payload.location_id else None
    )
    if location is not None:
        clinic = location.clinic
    signed = _signed(request, clinic, payload.witness)
    counted: dict[int, Decimal] = {item.vial_id: item.counted_ml for item in payload.vials}
    count = counts.record_count(
        by=user,
        clinic=clinic,
        location=location,
        purpose=payload.purpose,
        business_time=payload.business_time,
        counted_ml=counted,
        witness=signed,
        note=payload.note,
    )
    found = Discrepancy.objects.filter(count_line__count=count).order_by("pk")
    body = {
        "id": count.pk,
        "counted_at": count.counted_at,
        "lines": count.lines.count(),
        "discrepancies": [_discrepancy_out(item) for item in found],
    }
    return Status(201, body)


@router.get("/discrepancies", response=list[DiscrepancyOut], summary="Discrepancies (open ones first)")
def list_discrepancies(request: HttpRequest, clinic_id: int | None = None, open_only: bool = False) -> Any:
    require_any(api_user(request), Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    found = selectors.discrepancies_for(
        viewer=api_user(request), clinic=_clinic(request, clinic_id), open_only=open_only
    )
    return [_discrepancy_out(item) for item in found[:200]]


@router.post(
    "/discrepancies/{discrepancy_id}/resolution",
    response={201: DiscrepancyOut},
    summary="Resolve a discrepancy (custodian)",
)
def resolve(request: HttpRequest, discrepancy_id: int, payload: ResolutionIn) -> Status[Any]:
    require_any(api_user(request), Perm.RESOLVE_DISCREPANCY)
    user = api_user(request)
    discrepancy = selectors.discrepancy_for(viewer=user, discrepancy_id=discrepancy_id)
    counts.resolve_discrepancy(
        by=user,
        discrepancy=discrepancy,
        kind=payload.kind,
        reason=payload.reason,
        loss_type=payload.loss_type,
        police_notified=payload.police_notified,
        police_department=payload.police_department,
        police_report_number=payload.police_report_number,
    )
    return Status(
        201, _discrepancy_out(selectors.discrepancy_for(viewer=user, discrepancy_id=discrepancy_id))
    )


@router.post("/ledger/verify", response=ChainOut, summary="Verify the hash chains of your clinics")
def verify(request: HttpRequest) -> Any:
    report, _check = chain.verify_ledger(by=api_user(request))
    broken = report.broken
    return {
        "intact": report.intact,
        "entries_checked": report.entries_checked,
        "broken_entry_id": broken.entry_id if broken else None,
        "broken_product_id": broken.product_id if broken else None,
        "broken_sequence": broken.sequence if broken else None,
        "problem": broken.problem.value if broken else None,
    }


@router.get(
    "/products/{product_id}/entries", response=list[EntryOut], summary="A product's ledger, newest first"
)
def list_entries(request: HttpRequest, product_id: int, limit: int = 50, offset: int = 0) -> Any:
    if not 1 <= limit <= 200 or offset < 0:
        raise DomainError(ErrorCode.INVALID, "limit must be 1-200 and offset 0 or more.")
    user = api_user(request)
    product = selectors.product_for(viewer=user, product_id=product_id)
    entries = list(selectors.ledger_entries(viewer=user, product=product)[offset : offset + limit])
    selectors.audit_patients_shown(
        user, (entry.patient for entry in entries), ObjectType.CONTROLLED_DRUG_ENTRY
    )
    return entries
