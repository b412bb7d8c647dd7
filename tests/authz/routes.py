"""The route registry: every URL pattern and API operation, the permission(s) it needs (from
`ROLE_PERMISSIONS`), the arguments that name the shared world's rows and a valid body. test_routes.py runs
each
operation as every role, a patient, a guardian, anonymous and a person of another clinic.

A route that is neither here nor in PUBLIC fails test_every_route_is_registered: a new route must say which
permission guards it."""

import datetime as dt
from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from ketaclinic.accounts.roles import STAFF_ROLES as STAFF
from ketaclinic.accounts.roles import Role
from tests.authz.harness import Op
from tests.authz.world import World, witness, witness_form

# Routes anyone may call, signed in or not (they check a token, a password or nothing).
PUBLIC = {
    "portal:public_home": "the public front page",
    "accounts:login": "sign-in",
    "accounts:logout": "sign-out",
    "accounts:verify": "the second factor of sign-in",
    "accounts:enrol": "enrolling a second factor during sign-in",
    "accounts:password_reset_confirm": "the set-password link (its token is the credential)",
    "screening:contact": "the public inquiry form (no health data)",
    "screening:contact_thanks": "the page after the public inquiry",
    "screening:intake": "the one-time intake questionnaire link (its token is the credential)",
    "measures:fill": "the one-time scale link (its token is the credential)",
    "scheduling:confirm_instructions": "the one-time pre-visit instructions link (its token)",
    "api:openapi-json": "the API's schema",
    "api:openapi-view": "the API's documentation page",
    "api:api-root": "the API's root (lists nothing without sign-in)",
    "favicon": "the browser's icon request, redirected to the static icon",
}

# Routes for any signed-in person, whatever their role.
SIGNED_IN = {
    "portal:home": "the home page: staff see their start page, patients and guardians are sent to /my/",
    "accounts:idle_timeout": "the idle-timeout ping every signed-in page sends",
}


def ids(*names: str, **renamed: str) -> Any:
    """URL arguments from the world's ids: `ids("patient_id")`, `ids(alert_id="infusion_alert_id")`."""

    def build(world: World) -> dict[str, Any]:
        out = {name: world.ids[name] for name in names}
        out.update({arg: world.ids[key] for arg, key in renamed.items()})
        return out

    return build


def get(*perms: P, args: Any = None, scoped: bool = True, ok: int = 200, query: Any = None, **kw: Any) -> Op:
    extra: dict[str, Any] = dict(kw)
    if args is not None:
        extra["args"] = args
    if query is not None:
        extra["query"] = query
    return Op("GET", perms, ok, scoped=scoped, **extra)


def post(*perms: P, body: Any, args: Any = None, scoped: bool = True, ok: int = 302, **kw: Any) -> Op:
    extra: dict[str, Any] = {"body": body}
    if args is not None:
        extra["args"] = args
    return Op("POST", perms, ok, scoped=scoped, **extra, **kw)


def api(
    method: str, *perms: P, body: Any = None, args: Any = None, scoped: bool = True, ok: int = 200, **kw: Any
) -> Op:
    extra: dict[str, Any] = {"json": True}
    if body is not None:
        extra["body"] = body
    if args is not None:
        extra["args"] = args
    return Op(method, perms, ok, scoped=scoped, **extra, **kw)


PATIENT = ids("patient_id")
VISIT = ids("visit_id")
ORDER = ids("order_id")
STOCK_READ = (P.VIEW_STOCK, P.VIEW_STOCK_REPORTS)


def _today(world: World) -> str:
    from ketaclinic.core import clock

    return clock.today_in(world.main.time_zone).isoformat()


def _in_days(world: World, days: int) -> str:
    from ketaclinic.core import clock

    return (clock.today_in(world.main.time_zone) + dt.timedelta(days=days)).isoformat()


# --- inventory bodies ---


def receipt_form(world: World) -> dict[str, Any]:
    return {
        "product": world.ids["product_id"],
        "ndc": "00000-0050-10",
        "lot": "KD2699Z",
        "expires_on": _in_days(world, 400),
        "vial_count": 2,
        "invoice_number": "NMS-99001",
        "supplier_name": "Northeast Medical Supply",
        "supplier_address": "400 Distribution Drive",
        "supplier_dea_number": "RN0000000",
        "location": world.ids["safe_id"],
        "received_on": _today(world),
        **witness_form("drchen"),
    }


def receipt_json(world: World) -> dict[str, Any]:
    return {
        "product_id": world.ids["product_id"],
        "ndc": "00000-0050-10",
        "lot": "KD2699Z",
        "expires_on": _in_days(world, 400),
        "vial_count": 2,
        "invoice_number": "NMS-99001",
        "supplier_name": "Northeast Medical Supply",
        "supplier_address": "400 Distribution Drive",
        "supplier_dea_number": "RN0000000",
        "location_id": world.ids["safe_id"],
        "received_on": _today(world),
        "witness": witness("drchen"),
    }


def fresh_draw(world: World) -> None:
    """A draw of 20 mg for Lena's order, nothing given yet: what waste and administration routes act on."""
    from decimal import Decimal

    from ketaclinic.inventory.services import draws

    entry = draws.draw_from_vial(
        by=world.users["nurse"],
        vial_id=world.ids["cart_vial_id"],
        amount_mg=Decimal(20),
        patient=world.patients["elena"],
        dose_order_id=world.ids["order_id"],
    )
    world.ids["draw_id"] = entry.pk


def count_form(world: World) -> dict[str, Any]:
    from ketaclinic.inventory.models import Vial

    vials = Vial.objects.filter(location_id=world.ids["cart_id"], status="in_stock")
    body = {"purpose": "shift", "business_time": "close", **witness_form("drchen")}
    body.update({f"vial_{vial.pk}": str(vial.balance_ml) for vial in vials})
    return body


def count_json(world: World) -> dict[str, Any]:
    from ketaclinic.inventory.models import Vial

    vials = Vial.objects.filter(location_id=world.ids["cart_id"], status="in_stock")
    return {
        "location_id": world.ids["cart_id"],
        "purpose": "shift",
        "business_time": "close",
        "vials": [{"vial_id": vial.pk, "counted_ml": str(vial.balance_ml)} for vial in vials],
        "witness": witness("drchen"),
    }


def theft_found(world: World) -> None:
    """The count discrepancy resolved as a loss: the DEA Form 106 report exists."""
    from ketaclinic.inventory.models import Discrepancy, LossType, ResolutionKind
    from ketaclinic.inventory.services import counts

    counts.resolve_discrepancy(
        by=world.users["custodian"],
        discrepancy=Discrepancy.objects.get(pk=world.ids["discrepancy_id"]),
        kind=ResolutionKind.THEFT_OR_LOSS,
        reason="Not found after a search.",
        loss_type=LossType.EMPLOYEE_THEFT,
    )


RESOLUTION = {"kind": "minor_variance", "reason": "A drop lost priming the syringe; recounted, agreed."}

INVENTORY: dict[str, list[Op]] = {
    "inventory:dashboard": [get(P.VIEW_STOCK, scoped=False)],
    "inventory:products": [
        get(P.VIEW_STOCK, scoped=False),
        post(
            P.MANAGE_STOCK,
            scoped=False,
            body=lambda w: {
                "name": "Ketamine HCl injection",
                "substance": "ketamine",
                "schedule": "III",
                "ndc": "00000-0100-10",
                "concentration_mg_per_ml": "100",
                "vial_volume_ml": "5",
                "multi_dose": "on",
            },
        ),
    ],
    "inventory:locations": [
        get(P.VIEW_STOCK, scoped=False),
        post(P.MANAGE_STOCK, scoped=False, body=lambda w: {"name": "Cart 2", "description": "Room 4"}),
    ],
    "inventory:receive": [
        get(P.MANAGE_STOCK, scoped=False),
        post(P.MANAGE_STOCK, body=receipt_form, other_clinic_status=200),
    ],
    "inventory:transfer": [
        get(P.MANAGE_STOCK, scoped=False),
        post(
            P.MANAGE_STOCK,
            other_clinic_status=200,
            body=lambda w: {
                "vials": [w.ids["safe_vial_id"]],
                "to_location": w.ids["cart_id"],
                **witness_form("nurse"),
            },
        ),
    ],
    "inventory:draw": [
        get(P.DRAW_STOCK, scoped=False),
        post(
            P.DRAW_STOCK,
            other_clinic_status=200,
            body=lambda w: {
                "vial": w.ids["cart_vial_id"],
                "amount_mg": "20",
                "patient_record_number": w.ids["record_number"],
                "dose_order_id": w.ids["order_id"],
            },
        ),
    ],
    "inventory:waste": [
        get(P.DRAW_STOCK, scoped=False),
        post(
            P.DRAW_STOCK,
            prepare=fresh_draw,
            other_clinic_status=200,
            body=lambda w: {
                "draw": w.ids["draw_id"],
                "amount_mg": "20",
                "method": "denaturing_container",
                "reason": "Infusion stopped early",
                **witness_form("drchen"),
            },
        ),
    ],
    "inventory:remove": [
        get(P.MANAGE_STOCK, scoped=False),
        post(
            P.MANAGE_STOCK,
            other_clinic_status=200,
            body=lambda w: {
                "vial": w.ids["safe_vial_id"],
                "reason": "damaged",
                "method": "reverse_distributor",
                "note": "Cracked",
                **witness_form("drchen"),
            },
        ),
    ],
    "inventory:count_list": [get(*STOCK_READ, scoped=False)],
    "inventory:count_new": [
        get(P.COUNT_STOCK, query=lambda w: {"location": w.ids["cart_id"]}),
        post(P.COUNT_STOCK, body=count_form, query=lambda w: {"location": w.ids["cart_id"]}),
    ],
    "inventory:count_detail": [get(*STOCK_READ, args=ids("count_id"))],
    "inventory:discrepancy_list": [get(*STOCK_READ, scoped=False)],
    "inventory:discrepancy_detail": [
        get(*STOCK_READ, args=ids("discrepancy_id")),
        post(
            P.RESOLVE_DISCREPANCY, args=ids("discrepancy_id"), body=lambda w: RESOLUTION, seen_by=STOCK_READ
        ),
    ],
    "inventory:vial_detail": [get(P.VIEW_STOCK, args=ids(vial_id="cart_vial_id"))],
    "inventory:ledger": [get(*STOCK_READ, args=ids("product_id"))],
    "inventory:verify": [get(*STOCK_READ, scoped=False)],
    "inventory:reports": [get(P.VIEW_STOCK_REPORTS, scoped=False)],
    "inventory:log": [get(P.VIEW_STOCK_REPORTS, args=ids("product_id"))],
    "inventory:log_csv": [get(P.VIEW_STOCK_REPORTS, args=ids("product_id"))],
    "inventory:log_pdf": [get(P.VIEW_STOCK_REPORTS, args=ids("product_id"))],
    "inventory:inventory_report": [get(P.VIEW_STOCK_REPORTS, args=ids("count_id"))],
    "inventory:inventory_report_csv": [get(P.VIEW_STOCK_REPORTS, args=ids("count_id"))],
    "inventory:inventory_report_pdf": [get(P.VIEW_STOCK_REPORTS, args=ids("count_id"))],
    "inventory:form_106": [get(P.VIEW_STOCK_REPORTS, args=ids("discrepancy_id"), prepare=theft_found)],
    "inventory:form106_csv": [get(P.VIEW_STOCK_REPORTS, args=ids("discrepancy_id"), prepare=theft_found)],
    "inventory:form106_pdf": [get(P.VIEW_STOCK_REPORTS, args=ids("discrepancy_id"), prepare=theft_found)],
    "GET /api/inventory/products": [api("GET", *STOCK_READ, scoped=False)],
    "GET /api/inventory/locations": [api("GET", P.VIEW_STOCK, scoped=False)],
    "POST /api/inventory/locations": [
        api("POST", P.MANAGE_STOCK, scoped=False, ok=201, body=lambda w: {"name": "Cart 2"})
    ],
    "GET /api/inventory/vials": [api("GET", P.VIEW_STOCK, scoped=False)],
    "GET /api/inventory/vials/{vial_id}": [api("GET", P.VIEW_STOCK, args=ids(vial_id="cart_vial_id"))],
    "POST /api/inventory/receipts": [api("POST", P.MANAGE_STOCK, ok=201, body=receipt_json)],
    "POST /api/inventory/transfers": [
        api(
            "POST",
            P.MANAGE_STOCK,
            ok=201,
            body=lambda w: {
                "vial_ids": [w.ids["safe_vial_id"]],
                "to_location_id": w.ids["cart_id"],
                "witness": witness("nurse"),
            },
        )
    ],
    "POST /api/inventory/draws": [
        api(
            "POST",
            P.DRAW_STOCK,
            ok=201,
            body=lambda w: {
                "vial_id": w.ids["cart_vial_id"],
                "amount_mg": "20",
                "patient_id": w.ids["patient_id"],
                "dose_order_id": w.ids["order_id"],
                "visit_id": w.ids["visit_id"],
            },
        )
    ],
    "POST /api/inventory/administrations": [
        api(
            "POST",
            P.DRAW_STOCK,
            ok=201,
            prepare=fresh_draw,
            body=lambda w: {"draw_id": w.ids["draw_id"], "amount_mg": "20", "visit_id": w.ids["visit_id"]},
        )
    ],
    "POST /api/inventory/wastes": [
        api(
            "POST",
            P.DRAW_STOCK,
            ok=201,
            prepare=fresh_draw,
            body=lambda w: {
                "draw_id": w.ids["draw_id"],
                "amount_mg": "20",
                "method": "denaturing_container",
                "reason": "Infusion stopped early",
                "witness": witness("drchen"),
            },
        )
    ],
    "GET /api/inventory/dose-orders/{dose_order_id}/reconciliation": [
        # Totals of the viewer's own clinic: another clinic's order id reads as nothing drawn (no data leaks).
        api("GET", P.VIEW_STOCK, scoped=False, args=ids(dose_order_id="order_id"))
    ],
    "POST /api/inventory/dose-orders/{dose_order_id}/reconcile": [
        # Another clinic's order id reconciles that person's own (empty) ledger: 200, nothing written.
        api(
            "POST",
            P.DRAW_STOCK,
            args=ids(dose_order_id="order_id"),
            prepare=fresh_draw,
            other_clinic_status=200,
        )
    ],
    "POST /api/inventory/removals": [
        api(
            "POST",
            P.MANAGE_STOCK,
            ok=201,
            body=lambda w: {
                "vial_id": w.ids["safe_vial_id"],
                "reason": "damaged",
                "method": "reverse_distributor",
                "witness": witness("drchen"),
            },
        )
    ],
    "POST /api/inventory/counts": [api("POST", P.COUNT_STOCK, ok=201, body=count_json)],
    "GET /api/inventory/discrepancies": [api("GET", *STOCK_READ, scoped=False)],
    "POST /api/inventory/discrepancies/{discrepancy_id}/resolution": [
        api("POST", P.RESOLVE_DISCREPANCY, ok=201, args=ids("discrepancy_id"), body=lambda w: RESOLUTION)
    ],
    "POST /api/inventory/ledger/verify": [api("POST", *STOCK_READ, scoped=False)],
    "GET /api/inventory/products/{product_id}/entries": [api("GET", *STOCK_READ, args=ids("product_id"))],
}

# --- everything else: the reads of every app ---

READS: dict[str, list[Op]] = {
    "accounts:staff_list": [get(P.MANAGE_STAFF, scoped=False)],
    "accounts:staff_create": [get(P.MANAGE_STAFF, scoped=False)],
    "accounts:staff_detail": [get(P.MANAGE_STAFF, args=ids("user_id"))],
    "accounts:clinic_edit": [get(P.MANAGE_CLINIC, args=ids("clinic_id"))],
    "audit:list": [get(P.VIEW_AUDIT, scoped=False)],
    "audit:export": [get(P.VIEW_AUDIT, scoped=False)],
    "analytics:outcomes": [get(P.VIEW_OUTCOMES, scoped=False)],
    "analytics:outcomes_export": [get(P.VIEW_OUTCOMES, scoped=False)],
    "portal:my_record": [get(P.VIEW_OWN_RECORD, scoped=False, ok=302)],
    "patients:list": [get(P.VIEW_PATIENT, scoped=False)],
    "patients:register": [get(P.ADD_PATIENT, scoped=False)],
    "patients:consent_texts": [get(P.MANAGE_CLINIC, scoped=False)],
    "patients:detail": [get(P.VIEW_PATIENT, args=PATIENT)],
    "patients:history": [get(P.VIEW_PATIENT, args=PATIENT)],
    "patients:edit": [get(P.CHANGE_PATIENT, args=PATIENT)],
    "patients:guardian_add": [get(P.CHANGE_PATIENT, args=PATIENT)],
    "patients:consent_record": [get(P.RECORD_CONSENT, args=PATIENT)],
    "patients:consent_withdraw": [get(P.RECORD_CONSENT, args=ids("patient_id", "record_id"))],
    "protocols:list": [get(P.VIEW_PROTOCOL, scoped=False)],
    "protocols:detail": [get(P.VIEW_PROTOCOL, scoped=False, args=ids("parameter_id"))],
    "screening:home": [get(P.MANAGE_INQUIRIES, P.VIEW_ASSESSMENT, scoped=False)],
    "screening:inquiries": [get(P.MANAGE_INQUIRIES, scoped=False)],
    "screening:inquiry_detail": [get(P.MANAGE_INQUIRIES, args=ids("inquiry_id"))],
    "screening:inquiry_register": [get(P.MANAGE_INQUIRIES, args=ids("inquiry_id"))],
    "screening:code_search": [get(P.RECORD_ASSESSMENT, scoped=False, query=lambda w: {"q": "F32"})],
    "screening:medication_search": [get(P.RECORD_ASSESSMENT, scoped=False, query=lambda w: {"q": "sert"})],
    "screening:assessment": [get(P.VIEW_ASSESSMENT, args=PATIENT)],
    "screening:diagnosis_add": [get(P.RECORD_ASSESSMENT, args=PATIENT)],
    "screening:diagnosis_correct": [get(P.RECORD_ASSESSMENT, args=ids("patient_id", row_id="diagnosis_id"))],
    "screening:medication_add": [get(P.RECORD_ASSESSMENT, args=PATIENT)],
    "screening:medication_correct": [
        get(P.RECORD_ASSESSMENT, args=ids("patient_id", row_id="medication_id"))
    ],
    "screening:trial_add": [get(P.RECORD_ASSESSMENT, args=PATIENT)],
    "screening:trial_correct": [get(P.RECORD_ASSESSMENT, args=ids("patient_id", row_id="trial_id"))],
    "screening:treatment_add": [get(P.RECORD_ASSESSMENT, args=PATIENT)],
    "screening:treatment_correct": [get(P.RECORD_ASSESSMENT, args=ids("patient_id", row_id="treatment_id"))],
    "screening:history": [get(P.RECORD_ASSESSMENT, args=PATIENT)],
    "screening:vitals_add": [get(P.RECORD_ASSESSMENT, args=PATIENT)],
    "screening:decision": [get(P.SIGN_ELIGIBILITY, args=PATIENT)],
    "measures:due": [get(P.VIEW_MEASURES, scoped=False)],
    "measures:alerts": [get(P.VIEW_MEASURES, scoped=False)],
    "measures:acknowledge": [get(P.VIEW_MEASURES, args=ids(alert_id="measure_alert_id"))],
    "measures:instruments": [get(P.VIEW_MEASURES, P.MANAGE_INSTRUMENTS, P.SEND_MEASURE_LINK, scoped=False)],
    "measures:instrument_detail": [
        get(
            P.VIEW_MEASURES,
            P.MANAGE_INSTRUMENTS,
            P.SEND_MEASURE_LINK,
            scoped=False,
            args=ids("instrument_id"),
        )
    ],
    "measures:instrument_add": [get(P.MANAGE_INSTRUMENTS, scoped=False)],
    "measures:patient": [get(P.VIEW_MEASURES, args=PATIENT)],
    "measures:send": [get(P.SEND_MEASURE_LINK, args=PATIENT)],
    "measures:record": [get(P.RECORD_MEASURES, args=ids("patient_id", "instrument_id"))],
    "measures:outcomes": [get(P.VIEW_OUTCOMES, scoped=False)],
    "measures:outcomes_export": [get(P.VIEW_OUTCOMES, scoped=False)],
    "plans:list": [get(P.VIEW_PLAN, scoped=False)],
    "plans:patient": [get(P.VIEW_PLAN, args=PATIENT)],
    "plans:create": [get(P.CHANGE_PLAN, args=PATIENT)],
    "plans:draft_edit": [get(P.CHANGE_PLAN, args=ids("draft_id"))],
    "plans:draft_sign": [get(P.SIGN_PLAN, args=ids("draft_id"))],
    "plans:change": [get(P.CHANGE_PLAN, args=ids("plan_id"))],
    "plans:end": [get(P.SIGN_PLAN, args=ids("plan_id"))],
    "scheduling:day": [get(P.VIEW_SCHEDULE, scoped=False)],
    "scheduling:week": [get(P.VIEW_SCHEDULE, scoped=False)],
    "scheduling:staff_day": [get(P.VIEW_SCHEDULE, args=ids("user_id"))],
    "scheduling:patient": [get(P.VIEW_SCHEDULE, args=PATIENT)],
    "scheduling:appointment": [get(P.VIEW_SCHEDULE, args=ids("appointment_id"))],
    "scheduling:book": [get(P.BOOK_APPOINTMENT, args=PATIENT)],
    "scheduling:series": [get(P.BOOK_APPOINTMENT, args=PATIENT)],
    "scheduling:resources": [get(P.MANAGE_RESOURCES, scoped=False)],
    "dosing:queue": [get(P.COSIGN_DOSE_ORDER, scoped=False)],
    "dosing:patient_orders": [get(P.VIEW_DOSE_ORDER, args=PATIENT)],
    "dosing:order_new": [get(P.PRESCRIBE, args=PATIENT)],
    "dosing:titration": [get(P.PRESCRIBE, args=PATIENT)],
    "dosing:order_detail": [get(P.VIEW_DOSE_ORDER, args=ORDER)],
    "dosing:order_cosign": [get(P.COSIGN_DOSE_ORDER, args=ORDER)],
    "dosing:order_supersede": [get(P.PRESCRIBE, args=ORDER)],
    "infusions:board": [get(P.VIEW_INFUSION, scoped=False)],
    "infusions:patient_visits": [get(P.VIEW_INFUSION, args=PATIENT)],
    "infusions:chair": [get(P.VIEW_INFUSION, args=VISIT)],
    "infusions:progress": [get(P.VIEW_INFUSION, args=VISIT)],
    "infusions:record": [get(P.VIEW_INFUSION, args=VISIT)],
    "infusions:check_in": [get(P.RUN_INFUSION, args=VISIT)],
    "infusions:side_effect_new": [get(P.RUN_INFUSION, args=VISIT)],
    "infusions:drug_new": [get(P.RUN_INFUSION, args=VISIT)],
    "infusions:recovery": [get(P.RUN_INFUSION, args=VISIT)],
    "infusions:discharge": [get(P.RUN_INFUSION, args=VISIT)],
    "infusions:adverse_events": [get(P.REVIEW_ADVERSE_EVENTS, scoped=False)],
    "GET /api/patients/": [api("GET", P.VIEW_PATIENT, scoped=False, query=lambda w: {"q": "Marsh"})],
    "GET /api/patients/{patient_id}": [api("GET", P.VIEW_PATIENT, args=PATIENT)],
    "GET /api/protocol/": [api("GET", P.VIEW_PROTOCOL, scoped=False)],
    "GET /api/protocol/{key}": [api("GET", P.VIEW_PROTOCOL, scoped=False, args=ids(key="protocol_key"))],
    "GET /api/protocol/{key}/history": [
        api("GET", P.VIEW_PROTOCOL, scoped=False, args=ids(key="protocol_key"))
    ],
    "GET /api/screening/inquiries": [api("GET", P.MANAGE_INQUIRIES, scoped=False)],
    "GET /api/screening/inquiries/{inquiry_id}": [api("GET", P.MANAGE_INQUIRIES, args=ids("inquiry_id"))],
    "GET /api/screening/codes": [api("GET", P.RECORD_ASSESSMENT, scoped=False, query=lambda w: {"q": "F32"})],
    "GET /api/screening/medications": [
        api("GET", P.RECORD_ASSESSMENT, scoped=False, query=lambda w: {"q": "sert"})
    ],
    "GET /api/screening/patients/{patient_id}/assessment": [api("GET", P.VIEW_ASSESSMENT, args=PATIENT)],
    "GET /api/screening/patients/{patient_id}/findings": [api("GET", P.VIEW_ASSESSMENT, args=PATIENT)],
    "GET /api/screening/patients/{patient_id}/decisions": [api("GET", P.VIEW_ASSESSMENT, args=PATIENT)],
    "GET /api/measures/instruments": [
        api("GET", P.VIEW_MEASURES, P.MANAGE_INSTRUMENTS, P.SEND_MEASURE_LINK, scoped=False)
    ],
    "GET /api/measures/instruments/{instrument_id}": [
        api(
            "GET",
            P.VIEW_MEASURES,
            P.MANAGE_INSTRUMENTS,
            P.SEND_MEASURE_LINK,
            scoped=False,
            args=ids("instrument_id"),
        )
    ],
    "GET /api/measures/patients/{patient_id}/administrations": [api("GET", P.VIEW_MEASURES, args=PATIENT)],
    "GET /api/measures/patients/{patient_id}/outcomes": [api("GET", P.VIEW_MEASURES, args=PATIENT)],
    "GET /api/measures/alerts": [api("GET", P.VIEW_MEASURES, scoped=False)],
    "GET /api/plans/patients/{patient_id}": [api("GET", P.VIEW_PLAN, args=PATIENT)],
    "GET /api/plans/patients/{patient_id}/booking-terms": [api("GET", P.VIEW_PLAN, args=PATIENT)],
    "GET /api/schedule/day": [api("GET", P.VIEW_SCHEDULE, scoped=False)],
    "GET /api/schedule/patients/{patient_id}/upcoming": [api("GET", P.VIEW_SCHEDULE, args=PATIENT)],
    "GET /api/schedule/appointments/{appointment_id}": [
        api("GET", P.VIEW_SCHEDULE, args=ids("appointment_id"))
    ],
    "GET /api/dosing/patients/{patient_id}/orders": [api("GET", P.VIEW_DOSE_ORDER, args=PATIENT)],
    "GET /api/dosing/orders/{order_id}": [api("GET", P.VIEW_DOSE_ORDER, args=ORDER)],
    "GET /api/infusions/visits/{visit_id}": [api("GET", P.VIEW_INFUSION, args=VISIT)],
    "GET /api/infusions/visits/{visit_id}/record": [api("GET", P.VIEW_INFUSION, args=VISIT)],
    "GET /api/infusions/visits/{visit_id}/discharge-readiness": [api("GET", P.VIEW_INFUSION, args=VISIT)],
}


def _now_iso(world: World) -> str:
    from ketaclinic.core import clock

    return clock.now().isoformat()


def _order_json(world: World) -> dict[str, Any]:
    return {
        "weight_kg": "64.0",
        "weight_measured_on": _today(world),
        "height_cm": "168",
        "dose_mg_per_kg": "0.5",
        "duration_min": 40,
        "vial_concentration_mg_per_ml": "50",
        "diluent_volume_ml": "100",
    }


def _begun(world: World) -> None:
    """Lena's next infusion as it stands once its time has come (a no-show is refused before then). The
    services book only the future, so the row's times are set back inside the case's savepoint."""
    from ketaclinic.core import clock
    from ketaclinic.scheduling.models import Appointment

    appointment = Appointment.objects.get(pk=world.ids["appointment_id"])
    starts_at = clock.now() - dt.timedelta(minutes=20)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=starts_at, ends_at=starts_at + (appointment.ends_at - appointment.starts_at)
    )


def _stopped(world: World) -> None:
    from ketaclinic.infusions import rules as infusion_rules
    from ketaclinic.infusions import services as infusion_services
    from ketaclinic.infusions.models import InfusionVisit

    visit = InfusionVisit.objects.get(pk=world.ids["visit_id"])
    infusion_services.record_pump_event(
        by=world.users["nurse"], visit=visit, kind=infusion_rules.PumpEventKind.STOP, reason="Series done."
    )


def _discharged(world: World) -> None:
    """Lena's infusion stopped and her discharge recorded (a clinician's override of the waiting time)."""
    from ketaclinic.core import clock
    from ketaclinic.infusions import rules as infusion_rules
    from ketaclinic.infusions import services as infusion_services
    from ketaclinic.infusions.models import InfusionVisit
    from ketaclinic.infusions.services import discharge as discharge_services
    from ketaclinic.infusions.services import ketamine as ketamine_services
    from ketaclinic.inventory.services.witness import SignedWitness

    visit = InfusionVisit.objects.get(pk=world.ids["visit_id"])
    fresh_draw(world)  # the ketamine drawn for the visit, in the ledger
    infusion_services.record_pump_event(
        by=world.users["nurse"], visit=visit, kind=infusion_rules.PumpEventKind.STOP, reason="Series done."
    )
    # The ketamine drawn but not given is wasted before a witness: a visit is not signed off before.
    ketamine_services.waste_undelivered(
        by=world.users["nurse"],
        visit=visit,
        method="denaturing_container",
        note="",
        witness=SignedWitness(user=world.users["custodian"], signed_at=clock.now()),
    )
    discharge_services.discharge_patient(
        by=world.users["drchen"],
        visit=visit,
        escort_name="Tom Marsh",
        escort_confirmed=True,
        override_reason="Observed long enough; test.",
    )


APPOINTMENT = ids("appointment_id")

API_WRITES: dict[str, list[Op]] = {
    "POST /api/patients/": [
        api(
            "POST",
            P.ADD_PATIENT,
            scoped=False,
            ok=201,
            body=lambda w: {
                "legal_given_name": "Ada",
                "legal_family_name": "Quinn",
                "date_of_birth": "1980-02-03",
                "sex_assigned_at_birth": "female",
            },
        )
    ],
    "PATCH /api/patients/{patient_id}": [
        api(
            "PATCH",
            P.CHANGE_PATIENT,
            args=PATIENT,
            seen_by=(P.VIEW_PATIENT,),
            body=lambda w: {"pronouns": "they/them"},
        )
    ],
    "PATCH /api/screening/inquiries/{inquiry_id}": [
        api("PATCH", P.MANAGE_INQUIRIES, args=ids("inquiry_id"), body=lambda w: {"status": "closed"})
    ],
    "POST /api/screening/inquiries/{inquiry_id}/notes": [
        api(
            "POST",
            P.MANAGE_INQUIRIES,
            ok=201,
            args=ids("inquiry_id"),
            body=lambda w: {"text": "Called back."},
        )
    ],
    "POST /api/screening/patients/{patient_id}/diagnoses": [
        api(
            "POST",
            P.RECORD_ASSESSMENT,
            ok=201,
            args=PATIENT,
            body=lambda w: {"icd10_code": "F41.1", "role": "comorbid"},
        )
    ],
    "POST /api/screening/patients/{patient_id}/medications": [
        api(
            "POST",
            P.RECORD_ASSESSMENT,
            ok=201,
            args=PATIENT,
            body=lambda w: {
                "name": "Sertraline",
                "catalogue_key": "sertraline",
                "dose_amount": "50",
                "dose_unit": "mg",
            },
        )
    ],
    "POST /api/screening/patients/{patient_id}/trials": [
        api(
            "POST",
            P.RECORD_ASSESSMENT,
            ok=201,
            args=PATIENT,
            body=lambda w: {
                "drug": "Escitalopram",
                "dose_adequate": True,
                "duration_adequate": True,
                "response": "none",
            },
        )
    ],
    "POST /api/screening/patients/{patient_id}/treatments": [
        api(
            "POST",
            P.RECORD_ASSESSMENT,
            ok=201,
            args=PATIENT,
            body=lambda w: {"kind": "psychotherapy", "response": "partial", "sessions": 12},
        )
    ],
    "POST /api/screening/patients/{patient_id}/history": [
        api("POST", P.RECORD_ASSESSMENT, ok=201, args=PATIENT, body=lambda w: {"medical_history": "None."})
    ],
    "POST /api/screening/patients/{patient_id}/vitals": [
        api(
            "POST",
            P.RECORD_ASSESSMENT,
            ok=201,
            args=PATIENT,
            body=lambda w: {
                "systolic_mmhg": 122,
                "diastolic_mmhg": 78,
                "heart_rate_bpm": 70,
                "weight_kg": "64.0",
                "height_cm": "168.0",
            },
        )
    ],
    "POST /api/screening/patients/{patient_id}/intake-links": [
        api("POST", P.SEND_INTAKE, ok=201, args=PATIENT, body=lambda w: {"email": "lena@example.invalid"})
    ],
    "POST /api/measures/patients/{patient_id}/administrations": [
        api(
            "POST",
            P.RECORD_MEASURES,
            ok=201,
            args=PATIENT,
            body=lambda w: {
                "instrument_id": w.ids["gad7_id"],
                "answers": {str(i): 1 for i in range(1, 8)},
                "context": "ad_hoc",
                "administered_at": _now_iso(w),
            },
        )
    ],
    "POST /api/measures/patients/{patient_id}/requests": [
        api(
            "POST",
            P.SEND_MEASURE_LINK,
            ok=201,
            args=PATIENT,
            body=lambda w: {"instrument_id": w.ids["instrument_id"], "due_at": _now_iso(w)},
        )
    ],
    "POST /api/measures/alerts/{alert_id}/acknowledge": [
        api(
            "POST",
            P.ACKNOWLEDGE_ALERT,
            ok=201,
            args=ids(alert_id="measure_alert_id"),
            seen_by=(P.VIEW_MEASURES,),
            body=lambda w: {"action": "contacted_patient", "note": "Safety plan reviewed."},
        )
    ],
    "POST /api/plans/{plan_id}/versions": [
        api("POST", P.CHANGE_PLAN, ok=201, args=ids("plan_id"), body=lambda w: {"reason": "Slower series."})
    ],
    "PATCH /api/plans/drafts/{draft_id}": [
        api("PATCH", P.CHANGE_PLAN, args=ids("draft_id"), body=lambda w: {"titration_note": "Step 0.1."})
    ],
    "POST /api/plans/{plan_id}/end": [
        api("POST", P.SIGN_PLAN, ok=201, args=ids("plan_id"), body=lambda w: {"reason": "Moved away."})
    ],
    "POST /api/schedule/appointments/{appointment_id}/cancel": [
        api(
            "POST",
            P.BOOK_APPOINTMENT,
            args=APPOINTMENT,
            seen_by=(P.VIEW_SCHEDULE,),
            body=lambda w: {"reason": "Unwell."},
        )
    ],
    "POST /api/schedule/appointments/{appointment_id}/no-show": [
        api(
            "POST",
            P.BOOK_APPOINTMENT,
            args=APPOINTMENT,
            seen_by=(P.VIEW_SCHEDULE,),
            body=lambda w: {"reason": "Did not come."},
            prepare=_begun,
        )
    ],
    "POST /api/schedule/appointments/{appointment_id}/confirm-instructions": [
        api("POST", P.BOOK_APPOINTMENT, args=APPOINTMENT, seen_by=(P.VIEW_SCHEDULE,))
    ],
    "POST /api/dosing/patients/{patient_id}/calculate": [
        api("POST", P.PRESCRIBE, args=PATIENT, body=_order_json, writes=False)
    ],
    "POST /api/dosing/patients/{patient_id}/orders": [
        api("POST", P.PRESCRIBE, ok=201, args=PATIENT, body=_order_json)
    ],
    "POST /api/dosing/orders/{order_id}/supersede": [
        api(
            "POST",
            P.PRESCRIBE,
            ok=201,
            args=ORDER,
            body=lambda w: {**_order_json(w), "reason": "New weight."},
        )
    ],
    "POST /api/infusions/visits/{visit_id}/vitals": [
        api(
            "POST",
            # A nurse at the chair, or a bedside-monitor gateway of the visit's clinic (a device reading).
            P.RUN_INFUSION,
            P.RECORD_DEVICE_VITALS,
            ok=201,
            args=VISIT,
            body=lambda w: {
                "systolic_mmhg": 128,
                "diastolic_mmhg": 80,
                "heart_rate_bpm": 72,
                "spo2_percent": 98,
                "respiratory_rate_per_min": 14,
            },
        )
    ],
    "POST /api/infusions/visits/{visit_id}/pump-events": [
        api("POST", P.RUN_INFUSION, ok=201, args=VISIT, body=lambda w: {"kind": "pause", "reason": "Nausea."})
    ],
    "POST /api/infusions/alerts/{alert_id}/acknowledge": [
        api(
            "POST",
            P.ACKNOWLEDGE_INFUSION_ALERT,
            ok=201,
            args=ids(alert_id="infusion_alert_id"),
            body=lambda w: {"action_taken": "Rechecked; rate kept."},
        )
    ],
    "POST /api/infusions/visits/{visit_id}/side-effects": [
        api(
            "POST",
            P.RUN_INFUSION,
            ok=201,
            args=VISIT,
            body=lambda w: {"kind": "nausea", "severity": "mild", "grade": 1, "management": "Reassured."},
        )
    ],
    "POST /api/infusions/visits/{visit_id}/drugs": [
        api(
            "POST",
            P.RUN_INFUSION,
            ok=201,
            args=VISIT,
            # Not ondansetron: the demo's Lena is allergic to it (a hard stop only a clinician may override).
            body=lambda w: {"drug": "labetalol", "route": "iv", "dose_mg": "10"},
        )
    ],
    "POST /api/infusions/visits/{visit_id}/recovery-scores": [
        api(
            "POST",
            P.RUN_INFUSION,
            ok=201,
            args=VISIT,
            prepare=_stopped,
            body=lambda w: {
                "scale": "aldrete",
                "answers": {
                    "activity": 2,
                    "respiration": 2,
                    "circulation": 2,
                    "consciousness": 2,
                    "spo2": 2,
                },
            },
        )
    ],
    "POST /api/infusions/visits/{visit_id}/discharge": [
        api(
            "POST",
            P.RUN_INFUSION,
            ok=201,
            args=VISIT,
            prepare=_stopped,
            # Discharging before the minimum observation time takes a clinician's override with a reason
            # (OVERRIDE_HARD_STOP): the nurse is refused that override.
            also_refused={Role.NURSE: 403},
            body=lambda w: {
                "escort_name": "Tom Marsh",
                "escort_confirmed": True,
                "override_reason": "Observed long enough; test.",
            },
        )
    ],
    "POST /api/infusions/visits/{visit_id}/signatures": [
        api("POST", P.RUN_INFUSION, ok=201, args=VISIT, prepare=_discharged, body=lambda w: {"role": "nurse"})
    ],
    "POST /api/infusions/side-effects/{side_effect_id}/review": [
        api(
            "POST",
            P.REVIEW_ADVERSE_EVENTS,
            ok=201,
            args=ids("side_effect_id"),
            seen_by=(P.VIEW_INFUSION,),
            body=lambda w: {"outcome": "Resolved with ondansetron."},
        )
    ],
}

NURSE = ids("user_id")


def _locked_out(world: World) -> None:
    """Five failed sign-ins for the nurse: the lockout the admin lifts."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="nurse",
        ip_address="127.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )


def _second_guardian(world: World) -> None:
    """Noah's father, added beside his mother: the one unlinked (a minor keeps a guardian who consents)."""
    from ketaclinic.patients import services as patient_services

    guardian = patient_services.add_guardian(
        by=world.users["frontdesk"],
        patient=world.patients["noah"],
        details=patient_services.GuardianDetails(
            given_name="Mark", family_name="Bennett", relationship="father"
        ),
    )
    world.ids["second_guardian_id"] = guardian.pk


PAGE_WRITES: dict[str, list[Op]] = {
    "accounts:staff_reset_2fa": [post(P.MANAGE_STAFF, args=NURSE, body=lambda w: {})],
    "accounts:staff_unlock": [post(P.MANAGE_STAFF, args=NURSE, prepare=_locked_out, body=lambda w: {})],
    "accounts:token_create": [
        post(P.MANAGE_STAFF, args=ids(user_id="gateway_id"), body=lambda w: {"name": "lab interface"})
    ],
    "accounts:token_revoke": [
        post(P.MANAGE_STAFF, args=ids("token_id", user_id="gateway_id"), body=lambda w: {})
    ],
    "patients:guardian_unlink": [
        post(
            P.CHANGE_PATIENT,
            args=ids(patient_id="noah_id", guardian_id="second_guardian_id"),
            prepare=_second_guardian,
            body=lambda w: {},
        )
    ],
    "patients:consent_withdraw": [
        post(
            P.RECORD_CONSENT,
            args=ids("patient_id", "record_id"),
            body=lambda w: {"reason": "Wants to stop.", "withdrawn_on": _today(w)},
        )
    ],
    "scheduling:chair_toggle": [post(P.MANAGE_RESOURCES, args=ids("chair_id"), body=lambda w: {})],
    "scheduling:hours_remove": [post(P.MANAGE_RESOURCES, args=ids("hours_id"), body=lambda w: {})],
    "scheduling:closure_remove": [post(P.MANAGE_RESOURCES, args=ids("closure_id"), body=lambda w: {})],
    "scheduling:confirm_by_phone": [post(P.BOOK_APPOINTMENT, args=APPOINTMENT, body=lambda w: {})],
    "scheduling:cancel": [post(P.BOOK_APPOINTMENT, args=APPOINTMENT, body=lambda w: {"reason": "Unwell."})],
    "scheduling:no_show": [
        post(P.BOOK_APPOINTMENT, args=APPOINTMENT, body=lambda w: {"reason": "No call."}, prepare=_begun)
    ],
}
PAGE_WRITES["screening:inquiry_status"] = [
    post(P.MANAGE_INQUIRIES, args=ids("inquiry_id"), body=lambda w: {"status": "closed"})
]
PAGE_WRITES["screening:inquiry_note"] = [
    post(P.MANAGE_INQUIRIES, args=ids("inquiry_id"), body=lambda w: {"text": "Called back; booked."})
]
PAGE_WRITES["screening:intake_send"] = [
    post(P.SEND_INTAKE, args=PATIENT, body=lambda w: {"email": "lena@example.invalid"})
]
PAGE_WRITES["scheduling:resources"] = [
    post(
        P.MANAGE_RESOURCES,
        scoped=False,
        body=lambda w: {
            "form": "closure",
            "closure-first_day": _in_days(w, 200),
            "closure-last_day": _in_days(w, 201),
            "closure-reason": "Inventory days",
        },
    )
]


# Routes added by the branches merged after the registry was first written.
def _noah_asked_again(world: World) -> None:
    """Retire Noah's "no known allergies" so it may be recorded again (the service refuses a second)."""
    from ketaclinic.patients import services as patient_services
    from ketaclinic.patients.models import AllergyEntry

    patient_services.retire_allergy_entry(
        by=world.user("drchen"),
        entry=AllergyEntry.objects.get(pk=world.ids["noah_nka_entry_id"]),
        retirement="entered-in-error",
        reason="Recorded for the wrong visit.",
    )


def _drawn_and_stopped(world: World) -> None:
    """Ketamine drawn for Lena's visit (in the ledger) and the pump stopped: the rest is there to waste."""
    fresh_draw(world)
    _stopped(world)


def _probe_off(world: World) -> None:
    """An SpO2 of 40 % with a normal heart rate on Lena's running infusion: the "implausible reading" alert
    the artefact mark acts on."""
    from ketaclinic.infusions import services as infusion_services
    from ketaclinic.infusions.models import InfusionVisit
    from ketaclinic.infusions.services.vitals import VitalsInput

    recorded = infusion_services.record_vital_signs(
        by=world.users["nurse"],
        visit=InfusionVisit.objects.get(pk=world.ids["visit_id"]),
        values=VitalsInput(spo2_percent=40, heart_rate_bpm=72),
    )
    world.ids["implausible_alert_id"] = next(
        alert.pk for alert in recorded.alerts if alert.code == "implausible_reading"
    )


ALLERGY_FORM = {
    "entry": "allergy",
    "substance_code": "latex",
    "substance": "",
    "reaction": "rash",
    "reaction_severity": "",
    "criticality": "",
    "allergy_type": "allergy",
    "verification": "unconfirmed",
    "note": "",
}
ALLERGY_ENTRY = ids("patient_id", entry_id="allergy_entry_id")
RETIRE = {"retirement": "resolved", "reason": "Has taken amoxicillin without a reaction since."}
NOAH = ids(patient_id="noah_id")

MERGED: dict[str, list[Op]] = {
    "patients:allergy_add": [
        get(P.RECORD_ASSESSMENT, args=PATIENT),
        post(P.RECORD_ASSESSMENT, args=PATIENT, body=lambda w: ALLERGY_FORM),
        post(
            P.RECORD_ASSESSMENT,
            args=NOAH,
            prepare=_noah_asked_again,
            body=lambda w: {"entry": "none", "nka_note": "Asked him and his mother again."},
        ),
    ],
    "patients:allergy_retire": [
        get(P.RECORD_ASSESSMENT, args=ALLERGY_ENTRY),
        post(P.RECORD_ASSESSMENT, args=ALLERGY_ENTRY, body=lambda w: RETIRE),
    ],
    "GET /api/patients/{patient_id}/allergies": [api("GET", P.VIEW_PATIENT, args=PATIENT)],
    "POST /api/patients/{patient_id}/allergies": [
        api(
            "POST",
            P.RECORD_ASSESSMENT,
            args=PATIENT,
            ok=201,
            seen_by=(P.VIEW_PATIENT,),
            body=lambda w: {"substance_code": "latex", "reaction": "rash"},
        )
    ],
    "POST /api/patients/{patient_id}/allergies/no-known": [
        api(
            "POST",
            P.RECORD_ASSESSMENT,
            args=NOAH,
            ok=201,
            seen_by=(P.VIEW_PATIENT,),
            prepare=_noah_asked_again,
            body=lambda w: {"note": "Asked him and his mother again."},
        )
    ],
    "POST /api/patients/{patient_id}/allergies/{entry_id}/retire": [
        api(
            "POST",
            P.RECORD_ASSESSMENT,
            args=ALLERGY_ENTRY,
            ok=201,
            seen_by=(P.VIEW_PATIENT,),
            body=lambda w: RETIRE,
        )
    ],
    "infusions:stop": [get(P.RUN_INFUSION, args=VISIT)],
    # A person's own account page: for staff (their role), not a permission; patients, guardians and
    # integration accounts are refused.
    "accounts:my_account": [Op("GET", (), 200, scoped=False, roles=STAFF)],
    "infusions:mark_artefact": [
        post(
            P.ACKNOWLEDGE_INFUSION_ALERT,
            args=ids(alert_id="implausible_alert_id"),
            prepare=_probe_off,
            body=lambda w: {"reason": "Alert, pink, talking; the probe had slipped off the finger."},
        )
    ],
    "infusions:ketamine_waste": [
        get(P.VIEW_INFUSION, args=VISIT),
        post(
            P.DRAW_STOCK,
            args=VISIT,
            prepare=_drawn_and_stopped,
            seen_by=(P.VIEW_INFUSION,),
            body=lambda w: {"method": "denaturing_container", "reason": "", **witness_form()},
        ),
    ],
    "infusions:awaiting_waste": [get(P.VIEW_STOCK, P.VIEW_INFUSION, scoped=False)],
    "GET /api/infusions/visits/{visit_id}/ketamine": [api("GET", P.VIEW_INFUSION, args=VISIT)],
    # Wasting needs RUN_INFUSION and DRAW_STOCK (only the nurse holds both); the visit is looked up (for
    # reading) first, so another clinic's clinician gets 404.
    "POST /api/infusions/visits/{visit_id}/ketamine-waste": [
        api(
            "POST",
            P.DRAW_STOCK,
            ok=201,
            args=VISIT,
            prepare=_drawn_and_stopped,
            seen_by=(P.VIEW_INFUSION,),
            body=lambda w: {"method": "denaturing_container", "note": "", "witness": witness()},
        )
    ],
}

WRITES: dict[str, list[Op]] = {**API_WRITES}
for _key, _ops in PAGE_WRITES.items():
    WRITES.setdefault(_key, []).extend(_ops)

# Write routes whose valid-body case is not written yet: each is listed by name, so a new route still fails
# test_every_route_is_registered. The reads of their pages above are covered.
PENDING: dict[str, str] = {}
# Server-sent event streams never end; a test client would wait forever. Their permission is the page's
# (board: VIEW_INFUSION; a visit's stream: VIEW_INFUSION and the visit's clinic), checked before streaming.
PENDING["infusions:board_stream"] = "an endless event stream"
PENDING["infusions:visit_stream"] = "an endless event stream"
# Routes merged after the registry was written, not yet registered with a valid-body case.
# Making and revoking one's own token: for staff, and making one needs the person's own confirmed second
# factor in this session (staff without one are sent back with a message, nothing written), which the
# registry's role-and-permission model does not yet express.
_NEW = "own API tokens: allowed by role and by the person's own second factor; not registered yet"
for _key in (
    "accounts:my_token_create",
    "accounts:my_token_revoke",
):
    PENDING[_key] = _NEW


# Page routes whose POST (the form's submit) has no valid-body case yet; their GET is covered above.
PENDING_POSTS: set[str] = set()

ROUTES: dict[str, list[Op]] = {}
for _table in (INVENTORY, READS, WRITES, MERGED):
    for _key, _ops in _table.items():
        ROUTES.setdefault(_key, []).extend(_ops)

# Each app added after this registry was written keeps its routes in its own file, `routes_<app>.py`
# beside this one, so apps built side by side never edit the same lines. Such a file may define ROUTES,
# PUBLIC, SIGNED_IN, PENDING, PENDING_POSTS (merged into this module's) and `extend_world(world)`
# (conftest.py calls it after the shared world is built, to add the app's own rows to `world.ids`).
EXTENSIONS: list[Any] = []


def _load_extensions() -> None:
    import importlib
    import pkgutil
    from pathlib import Path

    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if not info.name.startswith("routes_"):
            continue
        module = importlib.import_module(f"tests.authz.{info.name}")
        EXTENSIONS.append(module)
        for key, ops in getattr(module, "ROUTES", {}).items():
            ROUTES.setdefault(key, []).extend(ops)
        PUBLIC.update(getattr(module, "PUBLIC", {}))
        SIGNED_IN.update(getattr(module, "SIGNED_IN", {}))
        PENDING.update(getattr(module, "PENDING", {}))
        PENDING_POSTS.update(getattr(module, "PENDING_POSTS", set()))


_load_extensions()


def extend_world(world: World) -> None:
    """Lets each app's registry file add its own rows to the shared world."""
    for module in EXTENSIONS:
        hook = getattr(module, "extend_world", None)
        if hook is not None:
            hook(world)
