"""The public site's pages and the portal's pages as people see them."""

import pytest
from django.test import Client

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.models import Clinic
from ketaclinic.measures import services as measure_services
from ketaclinic.measures.models import Context, InstrumentDefinition
from ketaclinic.patients import services
from ketaclinic.patients.tests.factories import MOTHER, register_adult, register_child
from ketaclinic.portal.models import PublicPageVersion

pytestmark = pytest.mark.django_db
STAFF = ["clinician", "nurse", "front_desk", "billing_clerk", "custodian", "clinic_admin", "outsider"]


def test_the_public_site_shows_the_clinic_and_no_form(clinic: Clinic) -> None:
    Clinic.objects.filter(pk=clinic.pk).update(
        address_line="12 Main Street",
        city="Springfield",
        phone="(555) 010-1000",
        opening_hours={"mon": [["08:00", "18:00"]]},
    )
    home = Client().get("/")
    assert home.status_code == 200
    assert "<form" not in home.text
    assert "Sign in" in home.text
    assert '<a class="tel" href="tel:5550101000">(555) 010-1000</a>' in home.text
    assert '<a href="tel:988"><strong>988</strong></a>' in home.text
    assert "Mon 08:00\u201318:00" in home.text
    page = Client().get("/site/your-visit/")
    assert page.status_code == 200
    assert "<h1>What a visit looks like</h1>" in page.text
    assert "<strong>2 hours" not in page.text
    assert "You must not drive until the next day" in page.text
    assert Client().get("/site/crisis/").text.count('href="tel:988"') == 2
    assert Client().get("/site/no-such-page/").status_code == 404


def test_the_admin_edits_a_page_and_a_bad_link_re_renders(clinic_admin, client_for) -> None:
    client = client_for(clinic_admin)
    assert client.get("/portal/site/").status_code == 200
    bad = client.post(
        "/portal/site/costs/", {"title": "Costs", "summary": "", "body": "[pay](javascript:steal())"}
    )
    assert bad.status_code == 422
    assert "Links may only be phone numbers" in bad.text
    assert PublicPageVersion.objects.filter(page__slug="costs").count() == 1
    good = client.post(
        "/portal/site/costs/", {"title": "Costs", "summary": "", "body": "An infusion costs **$550**."}
    )
    assert (good.status_code, good["Location"]) == (302, "/portal/site/costs/")
    assert "An infusion costs <strong>$550</strong>." in Client().get("/site/costs/").text


@pytest.mark.parametrize("role", STAFF)
def test_staff_home_for_every_staff_role(role, request, client_for, clinic) -> None:
    # `clinic` loads the shipped protocol (the clinician's home reads the scale schedule from it).
    assert client_for(request.getfixturevalue(role)).get("/home/").status_code == 200


@pytest.mark.parametrize("role", STAFF)
def test_the_portal_is_not_for_staff(role, request, client_for) -> None:
    assert client_for(request.getfixturevalue(role)).get("/my/").status_code == 403


def test_patients_are_sent_from_home_to_their_record(client_for, patient_user, front_desk, clinic) -> None:
    mine = register_adult(front_desk, clinic)
    services.link_portal_account(by=front_desk, patient=mine, user=patient_user)
    client = client_for(patient_user)
    assert client.get("/home/")["Location"] == "/my/"
    assert client.get("/my/")["Location"] == f"/my/{mine.pk}/"
    page = client.get(f"/my/{mine.pk}/")
    assert page.status_code == 200
    assert "<h1>My record</h1>" in page.text
    assert "Who looked" in page.text
    assert 'href="tel:988"' in page.text
    assert 'href="/billing/my/"' in page.text
    assert client.get("/billing/my/").status_code == 200


def test_a_guardian_sees_the_childs_record_and_answers_about_the_child(
    client_for, guardian_user, front_desk, nurse, clinic
) -> None:
    measure_services.load_shipped_instruments()
    child = register_child(front_desk, clinic)
    services.link_portal_account(
        by=front_desk, patient=child, user=guardian_user, guardian=child.guardians.get()
    )
    phq9 = InstrumentDefinition.objects.filter(clinic__isnull=True, key="phq9").order_by("-version").first()
    request = measure_services.request_measure(
        by=nurse,
        patient=child,
        instrument=phq9,
        context=Context.AD_HOC,
        due_at=child.created_at,
        send_email=False,
    )
    client = client_for(guardian_user)
    home = client.get(f"/my/{child.pk}/")
    assert "<h1>Noah&#x27;s record</h1>" in home.text
    assert "My record" not in home.text
    fill = client.get(f"/my/{child.pk}/questionnaires/{request.pk}/")
    assert fill.status_code == 200
    assert "how often has Noah been bothered" in fill.text
    assert "how often have you been bothered" not in fill.text
    assert "9. Thoughts that they would be better off dead or of hurting themself in some way" in fill.text
    assert "0 of 10 answered" in fill.text
    answers = {f"item_{key}": "0" for key in [*map(str, range(1, 10)), "difficulty"]}
    done = client.post(f"/my/{child.pk}/questionnaires/{request.pk}/", answers)
    assert done.status_code == 200
    assert "The answers were sent" in done.text
    assert request.administration.submitted_via == "portal"


def test_the_access_log_is_people_in_clinic_time(
    client_for, guardian_user, front_desk, nurse, clinic
) -> None:
    child = register_child(front_desk, clinic)
    services.link_portal_account(
        by=front_desk, patient=child, user=guardian_user, guardian=child.guardians.get()
    )
    guardian_user.first_name = "Claire"
    guardian_user.save()
    client_for(nurse).get(f"/patients/{child.pk}/")
    client = client_for(guardian_user)
    client.get(f"/my/{child.pk}/")
    page = client.get(f"/my/{child.pk}/access/")
    assert page.status_code == 200
    assert "<strong>Claire (you)</strong>" in page.text
    assert "Viewed Noah&#x27;s record" in page.text
    assert "<strong>Nurse Tester</strong>" in page.text
    assert "America/New_York" in page.text
    assert "UTC" not in page.text
    assert AuditEvent.objects.filter(actor=guardian_user, object_type="own_access_log").count() == 1


def test_a_guardian_who_lost_the_link_loses_the_record(client_for, guardian_user, front_desk, clinic) -> None:
    child = register_child(front_desk, clinic)
    services.link_portal_account(
        by=front_desk, patient=child, user=guardian_user, guardian=child.guardians.get()
    )
    assert client_for(guardian_user).get(f"/my/{child.pk}/").status_code == 200
    services.add_guardian(by=front_desk, patient=child, details=MOTHER)
    services.deactivate_guardian(by=front_desk, guardian=child.guardians.get(portal_user=guardian_user))
    assert client_for(guardian_user).get(f"/my/{child.pk}/").status_code == 404


def test_the_patient_page_links_the_invitation_for_the_roles_that_invite(front_desk, billing_clerk, clinic):
    import re

    from conftest import signed_in_client

    child = register_child(front_desk, clinic)
    mother = child.guardians.get()
    url = f"/patients/{child.pk}/"
    page = signed_in_client(front_desk).get(url).text
    assert f'href="/portal/invite/{child.pk}/?who=patient">Invite to the portal</a>' in page
    assert (
        f'href="/portal/invite/{child.pk}/?who={mother.pk}">Invite {mother.full_name} to the portal</a>'
        in page
    )
    invite = signed_in_client(front_desk).get(f"/portal/invite/{child.pk}/?who={mother.pk}").text
    checked = re.findall(r'<input type="radio" name="who" value="([^"]+)"[^>]*\bchecked\b', invite)
    assert checked == [str(mother.pk)]
    assert "Invite to the portal" not in signed_in_client(billing_clerk).get(url).text
