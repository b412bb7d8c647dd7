"""Builds the demo clinic through the real services, idempotently (running it twice changes nothing)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts import services as account_services
from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.demo import (
    billing_demo,
    data,
    dosing_demo,
    hl7_demo,
    infusions_demo,
    inventory_demo,
    measures_demo,
    notes_demo,
    plans_demo,
    portal_demo,
    scheduling_demo,
    screening_demo,
)
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import Assent, ConsentForm, Patient, SignedBy
from ketaclinic.protocols.selectors import readings_cached
from ketaclinic.protocols.services import load_protocol_defaults


def _clinics() -> dict[str, Clinic]:
    return {clinic.code: clinic for clinic in Clinic.objects.all()}


def _ensure_staff(admin: User) -> dict[str, User]:
    clinics = _clinics()
    users: dict[str, User] = {"admin": admin}
    for username, first, last, credentials, role, codes in data.DEMO_STAFF:
        existing = User.objects.filter(username=username).first()
        if existing is None:
            existing = account_services.create_staff_account(
                by=admin,
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@demo.ketaclinic.invalid",
                role=role,
                clinics=[clinics[code] for code in codes],
                credentials=credentials,
                password=data.DEMO_PASSWORD,
            )
        users[username] = existing
    for username in data.DEMO_TOTP_USERS:
        TOTPDevice.objects.get_or_create(
            user=users[username],
            name="Demo authenticator",
            defaults={"key": data.demo_totp_key_hex(username), "confirmed": True},
        )
    return users


def _ensure_patient(
    *,
    by: User,
    clinic: Clinic,
    details: dict[str, object],
    guardian: patient_services.GuardianDetails | None = None,
) -> tuple[Patient, bool]:
    existing = Patient.objects.filter(
        clinic=clinic,
        legal_family_name=details["legal_family_name"],
        legal_given_name=details["legal_given_name"],
    ).first()
    if existing:
        return existing, False
    patient = patient_services.register_patient(by=by, clinic=clinic, details=details, guardian=guardian)
    return patient, True


def _consent_all(
    *, by: User, patient: Patient, signed_by: SignedBy, assent: Assent = Assent.NOT_APPLICABLE
) -> None:
    guardian = patient.guardians.filter(can_consent=True).first() if signed_by == SignedBy.GUARDIAN else None
    for form in ConsentForm.objects.filter(version=1):
        patient_services.record_consent(
            by=by,
            patient=patient,
            form=form,
            signed_by=signed_by,
            guardian=guardian,
            signed_on=clock.now().date(),
            assent=assent,
            assent_note="Explained in plain words; agreed to try." if assent == Assent.GIVEN else "",
        )


def _ensure_portal_user(username: str, role: str, first: str, last: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username, password=data.DEMO_PASSWORD, role=role, first_name=first, last_name=last
        )
    return user


@dataclass(frozen=True)
class DemoWorld:
    """What the core demo made, handed to each app's demo loader."""

    staff: dict[str, User]
    clinics: dict[str, Clinic]
    patients: dict[str, Patient]


# Each app's demo loader, in layer order (an app may rely on what an app below it made).
APP_LOADERS: list[tuple[str, Callable[..., int]]] = [
    ("screening", screening_demo.load),
    ("measures", measures_demo.load),
    ("plans", plans_demo.load),
    ("scheduling", scheduling_demo.load),
    ("inventory", inventory_demo.load),
    ("dose_orders", dosing_demo.load),
    ("infusions", infusions_demo.load),
    ("notes", notes_demo.load),
    ("billing", billing_demo.load),
    ("portal", portal_demo.load),
    ("hl7", hl7_demo.load),
]


@transaction.atomic
def load_demo() -> dict[str, int]:
    """Create what is missing of the demo clinic and of every app's demo; returns counts of what was made.

    Protocol entries are read once each, as within a request (`readings_cached`; a saved protocol row
    empties the cache): the demo's services asked for them 768 times, a query each."""
    with readings_cached():
        created, world = load_demo_core()
        for name, loader in APP_LOADERS:
            created[name] = loader(staff=world.staff, clinics=world.clinics, patients=world.patients)
    return created


@transaction.atomic
def load_demo_core() -> tuple[dict[str, int], DemoWorld]:
    """The organisation, clinics, staff, patients, consents and portal logins; idempotent."""
    created = {
        "protocol": load_protocol_defaults(),
        "consent_texts": patient_services.ensure_default_consent_forms(),
    }
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        code, name, zone, _city, _region = data.DEMO_CLINICS[0]
        clinic, admin = account_services.bootstrap_organisation(
            organisation_name=data.DEMO_ORGANISATION,
            clinic_name=name,
            clinic_code=code,
            time_zone=zone,
            admin_username="admin",
            admin_password=data.DEMO_PASSWORD,
            admin_email="admin@demo.ketaclinic.invalid",
        )
        admin.first_name, admin.last_name = "Avery", "Admin"
        admin.save(update_fields=["first_name", "last_name"])
    for code, name, zone, city, region in data.DEMO_CLINICS:
        existing = Clinic.objects.filter(code=code).first()
        clinic = existing or Clinic.objects.create(
            organisation=Clinic.objects.get(code="main").organisation,
            name=name,
            code=code,
            time_zone=zone,
        )
        if not clinic.city:
            clinic.city, clinic.region, clinic.phone = city, region, "(555) 010-0100"
            clinic.address_line, clinic.npi = "12 Example Street", "1234567893"
            clinic.opening_hours = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
            clinic.save()
        admin.clinics.add(clinic)
    users = _ensure_staff(admin)
    clinics = _clinics()
    frontdesk, clinician = users["frontdesk"], users["drchen"]
    today = clock.today_in(clinics["main"].time_zone)
    patients_made = 0

    adult, made = _ensure_patient(
        by=frontdesk,
        clinic=clinics["main"],
        details={
            "legal_given_name": "Elena",
            "legal_family_name": "Marsh",
            "preferred_name": "Lena",
            "date_of_birth": data.years_ago(today, 38, 3, 14),
            "sex_assigned_at_birth": "female",
            "pronouns": "she/her",
            "phone": "(555) 010-2001",
            "email": "lena.marsh@example.invalid",
            "address_line": "4 Birch Lane",
            "city": "Burlington",
            "region": "VT",
            "postal_code": "05401",
            "emergency_contact_name": "Tom Marsh",
            "emergency_contact_relationship": "spouse",
            "emergency_contact_phone": "(555) 010-2002",
            "treating_clinician": clinician,
            "referring_provider": "Dr. Ruth Klein, Lakeview Family Practice",
            "outside_therapist": "Jamie Ortiz, LCSW",
        },
    )
    if made:
        _consent_all(by=frontdesk, patient=adult, signed_by=SignedBy.PATIENT)
        patients_made += 1
    teen, made = _ensure_patient(
        by=frontdesk,
        clinic=clinics["main"],
        details={
            "legal_given_name": "Noah",
            "legal_family_name": "Bennett",
            "date_of_birth": data.years_ago(today, 15, 7, 2),
            "sex_assigned_at_birth": "male",
            "gender_identity": "",
            "pronouns": "he/him",
            "treating_clinician": clinician,
            "outside_psychiatrist": "Dr. Lee Park, Children's Mind Center",
        },
        guardian=patient_services.GuardianDetails(
            given_name="Claire",
            family_name="Bennett",
            relationship="mother",
            phone="(555) 010-3001",
            email="claire.bennett@example.invalid",
        ),
    )
    if made:
        _consent_all(by=frontdesk, patient=teen, signed_by=SignedBy.GUARDIAN, assent=Assent.GIVEN)
        patients_made += 1
    elder, made = _ensure_patient(
        by=frontdesk,
        clinic=clinics["main"],
        details={
            "legal_given_name": "Walter",
            "legal_family_name": "Hughes",
            "date_of_birth": data.years_ago(today, 79, 11, 30),
            "sex_assigned_at_birth": "male",
            "pronouns": "he/him",
            "phone": "(555) 010-4001",
            "treating_clinician": clinician,
            "referring_provider": "Mercy Hospice, palliative team",
        },
    )
    if made:
        _consent_all(by=frontdesk, patient=elder, signed_by=SignedBy.PATIENT)
        patients_made += 1
    # A second planned patient whose induction series nobody has booked yet, so the front desk can book one
    # from the demo (Lena's is booked by the scheduling demo and partly attended at the chair).
    second_adult, made = _ensure_patient(
        by=frontdesk,
        clinic=clinics["main"],
        details={
            "legal_given_name": "Theodore",
            "legal_family_name": "Grant",
            "preferred_name": "Theo",
            "date_of_birth": data.years_ago(today, 46, 9, 21),
            "sex_assigned_at_birth": "male",
            "pronouns": "he/him",
            "phone": "(555) 010-6001",
            "email": "theo.grant@example.invalid",
            "treating_clinician": clinician,
            "referring_provider": "Dr. Ruth Klein, Lakeview Family Practice",
        },
    )
    if made:
        _consent_all(by=frontdesk, patient=second_adult, signed_by=SignedBy.PATIENT)
        patients_made += 1
    lake_patient, made = _ensure_patient(
        by=users["drokafor"],
        clinic=clinics["lake"],
        details={
            "legal_given_name": "Aisha",
            "legal_family_name": "Rahman",
            "date_of_birth": data.years_ago(today, 29, 5, 9),
            "sex_assigned_at_birth": "female",
            "gender_identity": "non-binary",
            "pronouns": "they/them",
        },
    )
    patients_made += int(made)

    patient_login = _ensure_portal_user("lena", "patient", "Lena", "Marsh")
    if adult.portal_user_id is None:
        patient_services.link_portal_account(by=frontdesk, patient=adult, user=patient_login)
    guardian_login = _ensure_portal_user("claire", "guardian", "Claire", "Bennett")
    mother = teen.guardians.get(given_name="Claire")
    if mother.portal_user_id is None:
        patient_services.link_portal_account(by=frontdesk, patient=teen, user=guardian_login, guardian=mother)
    created["patients"] = patients_made
    patients = {
        "lena": adult,
        "noah": teen,
        "walter": elder,
        "theo": second_adult,
        "aisha": lake_patient,
    }
    return created, DemoWorld(staff=users, clinics=clinics, patients=patients)
