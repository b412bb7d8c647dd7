"""Demo data for the portal, made through the services: Maya Ortiz (12), newly registered, whose mother Rosa
has an open portal invitation, consents to sign, an intake questionnaire and a PHQ-9 waiting; Lena's question
to the care team with the nurse's answer; Claire's question to the front desk, waiting. A second call makes
nothing."""

import datetime as dt

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.demo import data
from ketaclinic.measures import services as measure_services
from ketaclinic.measures.models import Context, InstrumentDefinition
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import Patient
from ketaclinic.portal import services
from ketaclinic.portal.models import PortalInvitation, PortalMessage
from ketaclinic.portal.rules import Topic
from ketaclinic.screening.services import intake

ROSA_EMAIL = "rosa.ortiz@example.invalid"


def _maya(staff: dict[str, User], clinic: Clinic) -> tuple[Patient, int]:
    existing = Patient.objects.filter(
        clinic=clinic, legal_given_name="Maya", legal_family_name="Ortiz"
    ).first()
    if existing:
        return existing, 0
    today = clock.today_in(clinic.time_zone)
    maya = patient_services.register_patient(
        by=staff["frontdesk"],
        clinic=clinic,
        details={
            "legal_given_name": "Maya",
            "legal_family_name": "Ortiz",
            "date_of_birth": data.years_ago(today, 12, 3, 14),
            "sex_assigned_at_birth": "female",
            "pronouns": "she/her",
            "treating_clinician": staff["drchen"],
            "referring_provider": "Dr. Ana Reyes, Lakeside Pediatrics",
        },
        guardian=patient_services.GuardianDetails(
            given_name="Rosa",
            family_name="Ortiz",
            relationship="mother",
            phone="(555) 010-5001",
            email=ROSA_EMAIL,
        ),
    )
    return maya, 1


def _maya_to_do(staff: dict[str, User], maya: Patient) -> int:
    made = 0
    rosa = maya.guardians.get(given_name="Rosa")
    if not PortalInvitation.objects.filter(patient=maya).exists():
        services.invite_to_portal(by=staff["frontdesk"], patient=maya, guardian=rosa, email=ROSA_EMAIL)
        made += 1
    if not maya.intake_invitations.exists():
        intake.send_intake_link(by=staff["frontdesk"], patient=maya, email=ROSA_EMAIL)
        made += 1
    if not maya.measure_requests.exists():
        phq9 = (
            InstrumentDefinition.objects.filter(clinic__isnull=True, key="phq9").order_by("-version").first()
        )
        if phq9 is not None:
            measure_services.request_measure(
                by=staff["nurse"],
                patient=maya,
                instrument=phq9,
                context=Context.ASSESSMENT,
                due_at=clock.now() + dt.timedelta(days=3),
                send_email=False,
            )
            made += 1
    return made


def _messages(staff: dict[str, User], patients: dict[str, Patient]) -> int:
    lena, noah = patients["lena"], patients["noah"]
    made = 0
    if lena.portal_user and not PortalMessage.objects.filter(patient=lena).exists():
        question = services.send_message(
            by=lena.portal_user,
            patient_id=lena.pk,
            topic=Topic.CARE,
            subject="Headache after the infusion",
            body="I had a mild headache the evening after my first infusion. Is that normal, and may I take "
            "ibuprofen next time?",
        )
        services.answer_message(
            by=staff["nurse"],
            thread_id=question.pk,
            body="A mild headache that evening is common and usually passes with sleep. Ibuprofen is fine "
            "for you. Tell us at your next visit, and call the clinic if it is severe or lasts into the next "
            "day.",
        )
        made += 2
    claire = noah.guardians.filter(portal_user__isnull=False).first()
    if claire and claire.portal_user and not PortalMessage.objects.filter(patient=noah).exists():
        services.send_message(
            by=claire.portal_user,
            patient_id=noah.pk,
            topic=Topic.APPOINTMENTS,
            subject="After-school times",
            body="Could Noah's visits be after 3:30 pm? He has exams until the end of the month.",
        )
        made += 1
    return made


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Create what is missing of the portal demo; return how many rows were made."""
    maya, made = _maya(staff, clinics["main"])
    made += _maya_to_do(staff, maya)
    return made + _messages(staff, patients)
