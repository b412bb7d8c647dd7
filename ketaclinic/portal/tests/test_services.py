"""The portal's services and selectors: pages, invitations, consents, messages and whose record is whose."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.core.tokens import hash_token
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.errors import PatientDomainError, PatientError
from ketaclinic.patients.models import Assent, ConsentRecord, SignedBy
from ketaclinic.patients.tests.factories import MOTHER, child_details, register_adult, register_child
from ketaclinic.portal import selectors, services
from ketaclinic.portal.errors import PortalDomainError, PortalError
from ketaclinic.portal.models import PortalInvitation, PortalMessage, PublicPage, PublicPageVersion
from ketaclinic.portal.rules import Section, Topic

pytestmark = pytest.mark.django_db
PASSWORD = "a long and unusual passphrase 41"


def _costs() -> PublicPage:
    return PublicPage.objects.get(slug="costs")


def test_shipped_pages_exist_with_sources() -> None:
    assert list(PublicPage.objects.values_list("slug", flat=True)) == [
        "ketamine-therapy",
        "who-it-is-for",
        "your-visit",
        "series-and-maintenance",
        "costs",
        "faq",
        "crisis",
    ]
    visit = selectors.public_page(slug="your-visit")
    assert visit.current.version == 1
    assert "about 40 minutes" in visit.current.body
    assert "must not drive until the next day" in visit.current.body
    assert "## Sources" in visit.current.body


def test_publishing_a_page_adds_a_version(clinic_admin) -> None:
    version = services.publish_page(
        by=clinic_admin, page=_costs(), title="Costs", summary="Prices", body="Call [us](tel:5550101000)."
    )
    assert (version.version, version.edited_by, version.title) == (2, clinic_admin, "Costs")
    assert selectors.public_page(slug="costs").current == version
    assert PublicPageVersion.objects.filter(page=_costs()).count() == 2
    assert AuditEvent.objects.filter(actor=clinic_admin, object_type="public_page").count() == 1


def test_publishing_refuses_unsafe_links_unchanged_text_and_people_without_the_permission(
    clinic_admin, front_desk
) -> None:
    current = selectors.public_page(slug="costs").current
    with pytest.raises(PortalDomainError) as unsafe:
        services.publish_page(
            by=clinic_admin, page=_costs(), title="Costs", summary="", body="[x](javascript:alert(1))"
        )
    assert (unsafe.value.code, unsafe.value.field) == (PortalError.UNSAFE_LINK, "body")
    with pytest.raises(PortalDomainError) as unchanged:
        services.publish_page(
            by=clinic_admin, page=_costs(), title=current.title, summary=current.summary, body=current.body
        )
    assert unchanged.value.code == PortalError.PAGE_UNCHANGED
    with pytest.raises(PermissionDenied):
        services.publish_page(by=front_desk, page=_costs(), title="Costs", summary="", body="Cheap.")
    assert PublicPageVersion.objects.filter(page=_costs()).count() == 1


def test_the_database_refuses_to_change_page_versions_and_messages(patient_user, front_desk, clinic) -> None:
    patient = register_adult(front_desk, clinic)
    patient_services.link_portal_account(by=front_desk, patient=patient, user=patient_user)
    message = services.send_message(
        by=patient_user, patient_id=patient.pk, topic=Topic.CARE, subject="Hello", body="A question."
    )
    version = selectors.public_page(slug="faq").current
    for table, row_id in (
        (PublicPageVersion._meta.db_table, version.pk),
        (PortalMessage._meta.db_table, message.pk),
    ):
        for statement in (
            f"UPDATE {table} SET body = 'changed' WHERE id = %s",
            f"DELETE FROM {table} WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [row_id])
    message.refresh_from_db()
    assert message.body == "A question."


def test_a_guardian_accepts_an_invitation_once(front_desk, clinic) -> None:
    child = register_child(front_desk, clinic)
    mother = child.guardians.get()
    invitation, token = services.invite_to_portal(by=front_desk, patient=child, guardian=mother)
    assert invitation.token_hash == hash_token(token)
    user = services.accept_invitation(token=token, username="claire.b", password=PASSWORD)
    mother.refresh_from_db()
    assert (user.role, user.first_name, mother.portal_user) == ("guardian", "Claire", user)
    record = selectors.own_record(viewer=user, patient_id=child.pk)
    assert (record.title, record.sections) == ("Noah's record", tuple(Section))
    with pytest.raises(PortalDomainError) as used:
        services.accept_invitation(token=token, username="someone.else", password=PASSWORD)
    assert used.value.code == PortalError.INVITATION_INVALID
    assert User.objects.filter(username="someone.else").count() == 0


def test_an_invitation_refuses_a_weak_password_and_expires(front_desk, clinic) -> None:
    patient = register_adult(front_desk, clinic)
    _invitation, token = services.invite_to_portal(by=front_desk, patient=patient)
    with pytest.raises(PortalDomainError) as weak:
        services.accept_invitation(token=token, username="lena", password="password")
    assert (weak.value.code, weak.value.field) == (PortalError.PASSWORD_WEAK, "password")
    assert not User.objects.filter(username="lena").exists()
    PortalInvitation.objects.update(expires_at=clock.now() - dt.timedelta(minutes=1))
    with pytest.raises(PortalDomainError) as expired:
        services.accept_invitation(token=token, username="lena", password=PASSWORD)
    assert expired.value.code == PortalError.INVITATION_INVALID


def test_a_child_below_the_own_view_age_is_not_invited_but_a_teenager_is(front_desk, clinic) -> None:
    # The factory's child is `age` until 1 December and a year older after it: 10 or 11 here.
    child = register_child(front_desk, clinic, age=10)
    with pytest.raises(PortalDomainError) as young:
        services.invite_to_portal(by=front_desk, patient=child)
    assert (young.value.code, young.value.field) == (PortalError.NOT_FOR_THIS_VIEW, "who")
    teen = patient_services.register_patient(
        by=front_desk, clinic=clinic, details=child_details(14) | {"legal_given_name": "Sam"}, guardian=MOTHER
    )
    invitation, _token = services.invite_to_portal(by=front_desk, patient=teen)
    assert (invitation.patient, invitation.guardian) == (teen, None)
    assert PortalInvitation.objects.count() == 1


def test_only_staff_with_the_permission_invite(billing_clerk, custodian, front_desk, clinic) -> None:
    patient = register_adult(front_desk, clinic)
    for person in (billing_clerk, custodian):
        with pytest.raises(PermissionDenied):
            services.invite_to_portal(by=person, patient=patient)
    assert PortalInvitation.objects.count() == 0


def test_a_guardian_signs_consent_with_the_childs_assent(front_desk, guardian_user, clinic) -> None:
    patient_services.ensure_default_consent_forms()
    child = register_child(front_desk, clinic, age=12)
    patient_services.link_portal_account(
        by=front_desk, patient=child, user=guardian_user, guardian=child.guardians.get()
    )
    with pytest.raises(PatientDomainError) as no_assent:
        services.sign_consent(
            by=guardian_user,
            patient_id=child.pk,
            kind="treatment",
            read_and_agreed=True,
            assent=Assent.NOT_APPLICABLE,
        )
    assert no_assent.value.code == PatientError.ASSENT_REQUIRED
    assert ConsentRecord.objects.filter(patient=child).count() == 0
    record = services.sign_consent(
        by=guardian_user, patient_id=child.pk, kind="treatment", read_and_agreed=True, assent=Assent.GIVEN
    )
    assert (record.signed_by, record.signer_name, record.assent, record.recorded_by) == (
        SignedBy.GUARDIAN,
        "Claire Bennett",
        Assent.GIVEN,
        guardian_user,
    )
    with pytest.raises(PortalDomainError) as again:
        services.sign_consent(
            by=guardian_user, patient_id=child.pk, kind="treatment", read_and_agreed=True, assent=Assent.GIVEN
        )
    assert again.value.code == PortalError.ALREADY_SIGNED


def test_messages_reach_the_roles_of_their_topic(patient_user, front_desk, nurse, clinician, clinic) -> None:
    patient = register_adult(front_desk, clinic)
    patient_services.link_portal_account(by=front_desk, patient=patient, user=patient_user)
    care = services.send_message(
        by=patient_user, patient_id=patient.pk, topic=Topic.CARE, subject="Headache", body="Is it normal?"
    )
    desk = services.send_message(
        by=patient_user, patient_id=patient.pk, topic=Topic.APPOINTMENTS, subject="Times", body="After 3?"
    )
    assert [thread.first for thread in selectors.inbox(viewer=nurse)] == [care]
    assert [thread.first for thread in selectors.inbox(viewer=front_desk)] == [desk]
    with pytest.raises(NotFound):
        services.answer_message(by=front_desk, thread_id=care.pk, body="We'll ask the nurse.")
    answer = services.answer_message(by=clinician, thread_id=care.pk, body="Yes, common and short-lived.")
    _record, thread = selectors.message_thread(viewer=patient_user, patient_id=patient.pk, thread_id=care.pk)
    assert [message.pk for message in thread.messages] == [care.pk, answer.pk]
    assert thread.awaiting_patient
    assert list(
        AuditEvent.objects.filter(object_type="portal_message", action="create")
        .order_by("pk")
        .values_list("actor__username", "object_id")
    ) == [("patientuser", str(care.pk)), ("patientuser", str(desk.pk)), ("clinician", str(answer.pk))]


def test_a_record_is_only_its_patients_and_guardians(
    patient_user, guardian_user, front_desk, nurse, clinic
) -> None:
    own = register_adult(front_desk, clinic)
    child = register_child(front_desk, clinic)
    patient_services.link_portal_account(by=front_desk, patient=own, user=patient_user)
    patient_services.link_portal_account(
        by=front_desk, patient=child, user=guardian_user, guardian=child.guardians.get()
    )
    with pytest.raises(NotFound):
        selectors.own_record(viewer=patient_user, patient_id=child.pk)
    with pytest.raises(NotFound):
        selectors.own_record(viewer=guardian_user, patient_id=own.pk)
    with pytest.raises(PermissionDenied):
        selectors.own_record(viewer=nurse, patient_id=own.pk)
    with pytest.raises(NotFound):
        services.send_message(by=guardian_user, patient_id=own.pk, topic=Topic.CARE, subject="x", body="y")
    assert PortalMessage.objects.count() == 0


def test_a_teenager_sees_a_reduced_view_of_their_own_record(front_desk, patient_user, clinic) -> None:
    teen = register_child(front_desk, clinic, age=14)
    patient_services.link_portal_account(by=front_desk, patient=teen, user=patient_user)
    record = selectors.own_record(viewer=patient_user, patient_id=teen.pk)
    assert record.sections == (Section.OVERVIEW, Section.VISITS, Section.SCALES, Section.PROGRESS)
    assert record.title == "My record"
    with pytest.raises(NotFound):
        selectors.own_record(viewer=patient_user, patient_id=teen.pk, section=Section.CONSENTS)
