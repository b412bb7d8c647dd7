"""The shared world the route-authorisation tests run against: the demo clinic (built once per module through
the real services) plus, for every staff role, a twin who works only at the other clinic."""

from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.core.models import Clinic
from ketaclinic.demo import data as demo_data
from ketaclinic.patients.models import Patient

STAFF_ROLES = [
    Role.CLINICIAN,
    Role.NURSE,
    Role.FRONT_DESK,
    Role.BILLING_CLERK,
    Role.CUSTODIAN,
    Role.CLINIC_ADMIN,
    Role.THERAPIST,
    # An integration account (a bedside-monitor gateway): it holds only RECORD_DEVICE_VITALS.
    Role.MONITOR_GATEWAY,
    # An integration account reading over FHIR: it holds only READ_FHIR.
    Role.FHIR_CLIENT,
]

# The demo's people at the main clinic, one per role.
DEMO_USER_FOR_ROLE = {
    Role.CLINICIAN: "drchen",
    Role.NURSE: "nurse",
    Role.FRONT_DESK: "frontdesk",
    Role.BILLING_CLERK: "billing",
    Role.CUSTODIAN: "custodian",
    Role.CLINIC_ADMIN: "admin",
    Role.THERAPIST: "therapist",
    Role.MONITOR_GATEWAY: "monitor-gateway",
    Role.FHIR_CLIENT: "fhir-client",
}


@dataclass
class World:
    """Ids and people the registry's builders read. `ids` is filled by `build_world`."""

    main: Clinic
    lake: Clinic
    users: dict[str, User]
    patients: dict[str, Patient]
    ids: dict[str, Any] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.users[name]


def totp_now(username: str) -> str:
    """The demo authenticator's current code for `username` (each test case rolls back its use)."""
    from django_otp.oath import TOTP

    key = bytes.fromhex(demo_data.demo_totp_key_hex(username))
    return f"{TOTP(key).token():06d}"


def witness(username: str = "custodian") -> dict[str, str]:
    return {"username": username, "password": demo_data.DEMO_PASSWORD, "otp_token": totp_now(username)}


def witness_form(username: str = "custodian") -> dict[str, str]:
    return {
        "witness_username": username,
        "witness_password": demo_data.DEMO_PASSWORD,
        "witness_otp": totp_now(username),
    }


def build_world() -> World:
    from ketaclinic.demo.services import load_demo

    load_demo()
    main = Clinic.objects.get(code="main")
    lake = Clinic.objects.get(code="lake")
    users = {user.username: user for user in User.objects.all()}
    # A twin of every staff role who works only at the other clinic: same permissions, none of main's rows.
    for role in STAFF_ROLES:
        twin = User.objects.create_user(
            username=f"lake-{role.value}",
            password=demo_data.DEMO_PASSWORD,
            role=role.value,
            first_name="Lake",
            last_name=role.value.title(),
        )
        twin.clinics.add(lake)
        users[twin.username] = twin
    patients = {p.legal_given_name.lower(): p for p in Patient.objects.all()}
    world = World(main=main, lake=lake, users=users, patients=patients)
    world.ids = _ids(world)
    return world


def _first(rows: Any, order: str, attribute: str = "pk") -> Any:
    row = rows.order_by(order).first()
    assert row is not None, f"the demo has no {rows.model.__name__}"
    return getattr(row, attribute)


def _ids(world: World) -> dict[str, Any]:
    """The main clinic's rows the routes name, made through the services where the demo has none."""
    import datetime as dt
    from decimal import Decimal

    from ketaclinic.accounts import services as account_services
    from ketaclinic.core import clock
    from ketaclinic.dosing.models import DoseOrder
    from ketaclinic.infusions.models import CheckIn, InfusionVisit, VitalAlert
    from ketaclinic.infusions.services import care
    from ketaclinic.inventory.models import (
        BusinessTime,
        CountPurpose,
        Discrepancy,
        DrugProduct,
        StockCount,
        StorageLocation,
        Vial,
    )
    from ketaclinic.inventory.services import counts
    from ketaclinic.inventory.services.witness import SignedWitness
    from ketaclinic.measures.models import Alert, InstrumentDefinition, MeasureRequest
    from ketaclinic.patients.models import AllergyEntry, ConsentRecord
    from ketaclinic.plans.models import PlanDraft, TreatmentPlan
    from ketaclinic.protocols.models import ProtocolParameter
    from ketaclinic.scheduling.models import Appointment, Chair, StaffHours
    from ketaclinic.scheduling.services import resources
    from ketaclinic.screening.models import (
        AntidepressantTrial,
        Diagnosis,
        Inquiry,
        Medication,
        OtherTreatment,
    )
    from ketaclinic.screening.services import intake

    main, u = world.main, world.users
    lena, noah = world.patients["elena"], world.patients["noah"]
    today = clock.today_in(main.time_zone)
    closure = resources.add_closure(
        by=u["admin"],
        clinic=main,
        first_day=today + dt.timedelta(days=300),
        last_day=today + dt.timedelta(days=300),
        reason="Staff training day",
    )
    cart = StorageLocation.objects.get(clinic=main, name="Cart 1")
    cart_vials = counts.vials_to_count(clinic=main, location=cart)
    counts.record_count(
        by=u["nurse"],
        clinic=main,
        location=cart,
        purpose=CountPurpose.END_OF_DAY,
        business_time=BusinessTime.CLOSE,
        counted_ml={
            vial.pk: vial.balance_ml - (Decimal("0.1") if i == 0 else 0) for i, vial in enumerate(cart_vials)
        },
        witness=SignedWitness(user=u["custodian"], signed_at=clock.now()),
    )
    visit = InfusionVisit.objects.get(patient=lena)
    side_effect = care.record_side_effect(
        by=u["nurse"],
        visit=visit,
        kind="nausea",
        severity="severe",
        grade=3,
        serious=True,
        description="Vomited twice",
        management="Ondansetron given",
    )
    # An integration account of the main clinic only (the demo's gateway serves both clinics), so another
    # clinic's admin cannot reach it; an admin issues tokens only for integration accounts.
    gateway = User.objects.create_user(
        username="main-gateway", password=None, role=Role.MONITOR_GATEWAY.value, first_name="Main"
    )
    gateway.clinics.add(main)
    token, _raw = account_services.create_api_token(by=u["admin"], user=gateway, name="monitor gateway")
    invitation = intake.send_intake_link(by=u["frontdesk"], patient=lena, email="lena.marsh@example.invalid")
    cart_vial = Vial.objects.filter(clinic=main, location=cart).order_by("pk").first()
    safe_vial = (
        Vial.objects.filter(clinic=main, location__name="Safe", product__ndc="00000-0050-10")
        .order_by("pk")
        .first()
    )
    assert cart_vial is not None
    assert safe_vial is not None
    return {
        "patient_id": lena.pk,
        "noah_id": noah.pk,
        "guardian_id": noah.guardians.get().pk,
        "record_id": _first(ConsentRecord.objects.filter(patient=lena), "pk"),
        "inquiry_id": _first(Inquiry.objects.filter(clinic=main), "pk"),
        "diagnosis_id": _first(Diagnosis.objects.filter(patient=lena), "pk"),
        "medication_id": _first(Medication.objects.filter(patient=lena), "pk"),
        "trial_id": _first(AntidepressantTrial.objects.filter(patient=lena), "pk"),
        "treatment_id": _first(OtherTreatment.objects.filter(patient__clinic=main), "pk"),
        "plan_id": TreatmentPlan.objects.filter(patient=lena).get().pk,
        "draft_id": _first(
            PlanDraft.objects.filter(plan__patient__clinic=main, signed_version__isnull=True), "pk"
        ),
        "appointment_id": _first(
            Appointment.objects.filter(patient=lena, status="booked", kind="infusion"), "starts_at"
        ),
        "user_id": u["nurse"].pk,
        "token_id": token.pk,
        "gateway_id": gateway.pk,
        "clinic_id": main.pk,
        "parameter_id": _first(ProtocolParameter.objects.all(), "pk", "pk"),
        "protocol_key": _first(ProtocolParameter.objects.all(), "pk", "key"),
        "record_number": lena.record_number,
        # The newest version of each scale (the merged branches raised PHQ-9 to version 2).
        "instrument_id": _first(
            InstrumentDefinition.objects.filter(clinic__isnull=True, key="phq9"), "-version"
        ),
        "gad7_id": _first(InstrumentDefinition.objects.filter(clinic__isnull=True, key="gad7"), "-version"),
        "measure_alert_id": Alert.objects.filter(patient__clinic=main).get().pk,
        "infusion_alert_id": VitalAlert.objects.filter(visit=visit).get().pk,
        "chair_id": _first(Chair.objects.filter(clinic=main), "pk"),
        "hours_id": _first(StaffHours.objects.filter(clinic=main), "pk"),
        "closure_id": closure.pk,
        "count_id": _first(StockCount.objects.filter(clinic=main), "pk"),
        "discrepancy_id": Discrepancy.objects.filter(clinic=main).get().pk,
        "cart_vial_id": cart_vial.pk,
        "safe_vial_id": safe_vial.pk,
        "product_id": safe_vial.product_id,
        "cart_id": cart.pk,
        "safe_id": safe_vial.location_id,
        "order_id": DoseOrder.objects.filter(patient=lena).get().pk,
        "visit_id": visit.pk,
        "check_in_id": CheckIn.objects.filter(visit=visit).get().pk,
        "side_effect_id": side_effect.pk,
        "intake_invitation_id": invitation.pk,
        "measure_request_id": _first(MeasureRequest.objects.all(), "pk"),
        "allergy_entry_id": _first(
            AllergyEntry.objects.filter(patient=lena, substance_code="penicillin", kind="allergy"), "pk"
        ),
        "noah_nka_entry_id": _first(
            AllergyEntry.objects.filter(patient=noah, kind="no_known_allergies"), "pk"
        ),
        "drug_product_ids": list(DrugProduct.objects.filter(clinic=main).values_list("pk", flat=True)),
    }


def client_for(user: User | None) -> Client:
    """A client signed in as `user` (anonymous for None), past the second factor wherever the user has one."""
    if user is None:
        return Client()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from conftest import signed_in_client

    client = signed_in_client(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is not None:
        # A demo nurse has an authenticator though her role does not require one: she signs in with it.
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client
