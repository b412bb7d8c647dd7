"""Billing's routes in the authorisation registry: pages, PDFs, CSV exports, the patient's own downloads and
the API. The world gets a draft invoice (a second prepaid series) and an estimate not yet acknowledged;
invoicing a visit first stops the pump of Lena's live infusion inside the case (so the visit is delivered)."""

from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from ketaclinic.accounts.roles import Role
from tests.authz.routes import _today, api, get, ids, post
from tests.authz.world import World

PATIENT = ids("patient_id")
INVOICE = ids(invoice_id="billing_invoice_id")
DRAFT = ids(invoice_id="billing_draft_invoice_id")
PAYMENT = ids(payment_id="billing_payment_id")
ESTIMATE = ids(estimate_id="billing_estimate_id")
OPEN_ESTIMATE = ids(estimate_id="billing_open_estimate_id")
PACKAGE = ids(package_id="billing_package_id")
DEPOSIT = ids(deposit_id="billing_deposit_id")
DEPOSIT_APPOINTMENT = ids(appointment_id="billing_deposit_appointment_id")
OPEN_APPOINTMENT = ids(appointment_id="billing_open_appointment_id")
NO_SHOW = ids(appointment_id="billing_no_show_appointment_id")
# Lena's own documents: Claire (a guardian, of Noah only) holds the permission but they are not hers.
NOT_CLAIRES = {Role.GUARDIAN: 404}


def extend_world(world: World) -> None:
    from ketaclinic.billing import services
    from ketaclinic.billing.models import GoodFaithEstimate, Invoice, PackageCredit, Payment, PriceItem

    lena, clerk = world.patients["elena"], world.user("billing")
    main = world.main
    package_item = PriceItem.objects.filter(clinic=main, service_key="induction_series").latest("pk")
    issued = Invoice.objects.filter(patient=lena, issue__isnull=False).latest("pk")
    draft = services.sell_package(by=clerk, patient=lena, price_item=package_item)
    estimate = GoodFaithEstimate.objects.filter(patient=lena).latest("pk")
    import datetime as dt

    open_estimate = services.create_estimate(
        by=clerk, patient=lena, scheduled_on=dt.date.fromisoformat(_today(world)), service_starts_on=None
    )
    from ketaclinic.billing.models import Deposit
    from ketaclinic.scheduling.models import Appointment

    deposit = Deposit.objects.get(patient=lena)
    open_appointment = (
        Appointment.objects.filter(patient=lena, status="booked", deposit__isnull=True)
        .exclude(pk=deposit.appointment_id)
        .latest("starts_at")
    )
    world.ids.update(
        {
            "billing_deposit_id": deposit.pk,
            "billing_deposit_appointment_id": deposit.appointment_id,
            "billing_open_appointment_id": open_appointment.pk,
            "billing_no_show_appointment_id": Appointment.objects.get(
                patient=world.patients["noah"], status="no_show"
            ).pk,
            "billing_invoice_id": issued.pk,
            "billing_draft_invoice_id": draft.pk,
            "billing_payment_id": Payment.objects.filter(invoice=issued).latest("pk").pk,
            "billing_estimate_id": estimate.pk,
            "billing_open_estimate_id": open_estimate.pk,
            "billing_package_id": PackageCredit.objects.filter(invoice_line__invoice=issued).get().pk,
            "billing_package_price_id": package_item.pk,
        }
    )


def stop_lenas_infusion(world: World) -> None:
    """The live visit becomes a delivered one (its pump stopped), so it can be invoiced."""
    from ketaclinic.infusions import rules, services
    from ketaclinic.infusions.models import InfusionVisit

    visit = InfusionVisit.objects.get(pk=world.ids["visit_id"])
    services.record_pump_event(
        by=world.user("nurse"), visit=visit, kind=rules.PumpEventKind.STOP, reason="Done."
    )


def _price(world: World) -> dict[str, Any]:
    return {
        "service_key": "follow_up",
        "code": "99213",
        "name": "",
        "unit_price": "150.00",
        "sessions": "1",
        "effective_from": _today(world),
    }


def _payment(world: World) -> dict[str, Any]:
    return {"method": "cash", "amount": "10.00", "received_on": _today(world), "reference": ""}


def _invoice_form(world: World) -> dict[str, Any]:
    visit = world.ids["visit_id"]
    return {"visits": [visit], "lines": [f"{visit}:scale"], "sliding_scale_percent": "0"}


def _period(world: World) -> dict[str, Any]:
    return {"start": _today(world), "end": _today(world)}


def _deposit(world: World) -> dict[str, Any]:
    return {"method": "cash", "amount": "100.00", "received_on": _today(world), "reference": ""}


def _settle(world: World) -> dict[str, Any]:
    return {"outcome": "refunded", "reason": "The patient asked for the deposit back."}


def _waive(world: World) -> dict[str, Any]:
    return {"reason": "First missed visit; family emergency."}


READ = P.VIEW_BILLING
ROUTES = {
    "billing:appointment_deposit": [
        get(READ, P.TAKE_DEPOSIT, args=DEPOSIT_APPOINTMENT),
        post(P.TAKE_DEPOSIT, args=OPEN_APPOINTMENT, body=_deposit),
    ],
    "billing:deposit_receipt_pdf": [get(READ, P.TAKE_DEPOSIT, args=DEPOSIT)],
    "billing:deposit_settle": [post(P.SETTLE_DEPOSIT, args=DEPOSIT, body=_settle)],
    "billing:fee_charge": [post(P.DECIDE_NO_SHOW_FEE, args=NO_SHOW, body=lambda w: {})],
    "billing:fee_waive": [post(P.DECIDE_NO_SHOW_FEE, args=NO_SHOW, body=_waive)],
    "billing:my_deposit_receipt_pdf": [
        get(P.VIEW_OWN_RECORD, args=DEPOSIT, scoped=False, also_refused=NOT_CLAIRES)
    ],
    "billing:work": [get(READ, scoped=False)],
    "billing:prices": [
        get(READ, scoped=False),
        post(P.MANAGE_PRICE_LIST, body=_price, scoped=False),
    ],
    "billing:receivables": [get(READ, scoped=False)],
    "billing:receivables_csv": [get(READ, scoped=False)],
    "billing:reports": [get(P.VIEW_BILLING_REPORTS, scoped=False)],
    "billing:revenue_csv": [get(P.VIEW_BILLING_REPORTS, scoped=False)],
    "billing:patient": [get(READ, args=PATIENT)],
    "billing:estimate_new": [
        get(P.ISSUE_ESTIMATE, args=PATIENT),
        post(
            P.ISSUE_ESTIMATE,
            args=PATIENT,
            body=lambda w: {"scheduled_on": _today(w), "service_starts_on": ""},
        ),
    ],
    "billing:invoice_new": [
        get(P.ISSUE_INVOICE, args=PATIENT),
        post(P.ISSUE_INVOICE, args=PATIENT, body=_invoice_form, prepare=stop_lenas_infusion),
    ],
    "billing:package_sell": [
        post(P.ISSUE_INVOICE, args=PATIENT, body=lambda w: {"price_item": w.ids["billing_package_price_id"]}),
    ],
    "billing:superbill": [get(READ, args=PATIENT)],
    "billing:superbill_pdf": [get(READ, args=PATIENT, query=_period)],
    "billing:statement_pdf": [get(READ, args=PATIENT)],
    "billing:estimate": [
        get(READ, args=ESTIMATE),
        post(P.ISSUE_ESTIMATE, args=OPEN_ESTIMATE, body=lambda w: {"signer_name": "Elena Marsh"}),
    ],
    "billing:estimate_pdf": [get(READ, args=ESTIMATE)],
    "billing:invoice": [get(READ, args=INVOICE)],
    "billing:invoice_pdf": [get(READ, args=INVOICE)],
    "billing:invoice_issue": [post(P.ISSUE_INVOICE, args=DRAFT, body=lambda w: {})],
    "billing:invoice_void": [
        post(P.VOID_INVOICE, args=DRAFT, body=lambda w: {"reason": "Sold twice by mistake."})
    ],
    "billing:payment_record": [post(P.RECORD_PAYMENT, args=INVOICE, body=_payment)],
    "billing:receipt_pdf": [get(READ, args=PAYMENT)],
    "billing:payment_refund": [
        post(
            P.VOID_INVOICE,
            args=PAYMENT,
            body=lambda w: {"amount": "10.00", "reason": "Overpaid at the desk."},
        )
    ],
    "billing:package_cancel": [
        post(P.VOID_INVOICE, args=PACKAGE, body=lambda w: {"reason": "Patient moved away."})
    ],
    "billing:my": [get(P.VIEW_OWN_RECORD, scoped=False)],
    "billing:my_estimate": [
        get(P.VIEW_OWN_RECORD, args=ESTIMATE, scoped=False, also_refused=NOT_CLAIRES),
        post(
            P.VIEW_OWN_RECORD,
            args=OPEN_ESTIMATE,
            body=lambda w: {"signer_name": "Elena Marsh"},
            scoped=False,
            also_refused=NOT_CLAIRES,
        ),
    ],
    "billing:my_estimate_pdf": [
        get(P.VIEW_OWN_RECORD, args=ESTIMATE, scoped=False, also_refused=NOT_CLAIRES)
    ],
    "billing:my_invoice_pdf": [get(P.VIEW_OWN_RECORD, args=INVOICE, scoped=False, also_refused=NOT_CLAIRES)],
    "billing:my_receipt_pdf": [get(P.VIEW_OWN_RECORD, args=PAYMENT, scoped=False, also_refused=NOT_CLAIRES)],
    "billing:my_superbill_pdf": [
        get(P.VIEW_OWN_RECORD, args=PATIENT, query=_period, scoped=False, also_refused=NOT_CLAIRES)
    ],
    "GET /api/billing/work": [api("GET", READ, scoped=False)],
    "GET /api/billing/prices": [api("GET", READ, scoped=False)],
    "GET /api/billing/patients/{patient_id}": [api("GET", READ, args=PATIENT)],
    "GET /api/billing/patients/{patient_id}/proposed": [api("GET", READ, args=PATIENT)],
    "POST /api/billing/patients/{patient_id}/invoices": [
        api(
            "POST",
            P.ISSUE_INVOICE,
            args=PATIENT,
            ok=201,
            prepare=stop_lenas_infusion,
            body=lambda w: {"visit_ids": [w.ids["visit_id"]], "excluded": []},
        ),
    ],
    "GET /api/billing/invoices/{invoice_id}": [api("GET", READ, args=INVOICE)],
    "POST /api/billing/invoices/{invoice_id}/issue": [
        api("POST", P.ISSUE_INVOICE, args=DRAFT, body=lambda w: {})
    ],
    "POST /api/billing/invoices/{invoice_id}/payments": [
        api("POST", P.RECORD_PAYMENT, args=INVOICE, ok=201, body=_payment)
    ],
    "GET /api/billing/deposits/work": [api("GET", READ, scoped=False)],
    "GET /api/billing/appointments/{appointment_id}/deposit": [
        api("GET", READ, P.TAKE_DEPOSIT, args=DEPOSIT_APPOINTMENT)
    ],
    "POST /api/billing/appointments/{appointment_id}/deposit": [
        api("POST", P.TAKE_DEPOSIT, args=OPEN_APPOINTMENT, ok=201, body=_deposit)
    ],
    "POST /api/billing/deposits/{deposit_id}/settle": [
        api("POST", P.SETTLE_DEPOSIT, args=DEPOSIT, ok=201, body=_settle)
    ],
    "POST /api/billing/appointments/{appointment_id}/no-show-fee/charge": [
        api("POST", P.DECIDE_NO_SHOW_FEE, args=NO_SHOW, ok=201, body=lambda w: {})
    ],
    "POST /api/billing/appointments/{appointment_id}/no-show-fee/waive": [
        api("POST", P.DECIDE_NO_SHOW_FEE, args=NO_SHOW, ok=201, body=_waive)
    ],
}
