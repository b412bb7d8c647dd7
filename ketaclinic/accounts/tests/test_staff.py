import pytest
from django.core import mail
from django.urls import reverse

from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.services import create_staff_account
from ketaclinic.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db
ALL_ROLES = [
    "clinician",
    "nurse",
    "front_desk",
    "billing_clerk",
    "custodian",
    "clinic_admin",
    "patient_user",
    "guardian_user",
    "outsider",
]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_staff_pages_only_for_clinic_admin(role, request, client_for) -> None:
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("accounts:staff_list")).status_code == (200 if role == "clinic_admin" else 403)
    response = client.post(
        reverse("accounts:staff_create"),
        {"username": "newbie", "first_name": "N", "last_name": "B", "role": "nurse", "clinics": []},
    )
    # No clinic chosen: the admin sees the form again with an error; everyone else is refused.
    assert response.status_code == (200 if role == "clinic_admin" else 403)
    assert not User.objects.filter(username="newbie").exists()


def test_admin_creates_staff_and_an_invitation_is_emailed(
    client_for, clinic_admin, clinic, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clinic_admin).post(
            reverse("accounts:staff_create"),
            {
                "username": "rn2",
                "first_name": "Kim",
                "last_name": "Lo",
                "email": "kim@example.invalid",
                "role": "nurse",
                "clinics": [clinic.pk],
                "credentials": "RN",
                "phone": "",
            },
        )
    user = User.objects.get(username="rn2")
    assert response.status_code == 302
    assert (user.role, list(user.clinics.all()), user.has_usable_password()) == ("nurse", [clinic], False)
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


def test_admin_cannot_assign_a_clinic_they_do_not_belong_to(clinic_admin, other_clinic) -> None:
    with pytest.raises(PermissionDenied):
        create_staff_account(
            by=clinic_admin,
            username="x",
            first_name="X",
            last_name="Y",
            email="",
            role=Role.NURSE,
            clinics=[other_clinic],
        )


def test_admin_cannot_demote_themselves(client_for, clinic_admin, clinic) -> None:
    response = client_for(clinic_admin).post(
        reverse("accounts:staff_detail", args=[clinic_admin.pk]),
        {
            "first_name": "A",
            "last_name": "B",
            "email": "",
            "role": "nurse",
            "clinics": [clinic.pk],
            "is_active": "on",
            "credentials": "",
            "phone": "",
        },
    )
    assert response.status_code == 200
    clinic_admin.refresh_from_db()
    assert clinic_admin.role == "clinic_admin"


def test_admin_of_another_clinic_cannot_see_our_staff(client_for, outsider, nurse) -> None:
    outsider.role = "clinic_admin"
    outsider.save()
    assert client_for(outsider).get(reverse("accounts:staff_detail", args=[nurse.pk])).status_code == 404


def test_api_token_shown_once_and_stored_hashed(client_for, clinic_admin, monitor_gateway) -> None:
    client = client_for(clinic_admin)
    client.post(reverse("accounts:token_create", args=[monitor_gateway.pk]), {"name": "chair monitors"})
    page = client.get(reverse("accounts:staff_detail", args=[monitor_gateway.pk]))
    token = ApiToken.objects.get(user=monitor_gateway)
    raw = page.text.split('<code class="secret">')[1].split("</code>")[0]
    assert raw.startswith("kc_")
    assert token.key_hash != raw
    assert raw not in client.get(reverse("accounts:staff_detail", args=[monitor_gateway.pk])).text


def test_idle_timeout_setting_changed_by_admin(client_for, clinic_admin, organisation) -> None:
    client_for(clinic_admin).post(reverse("accounts:idle_timeout"), {"minutes": "30"})
    organisation.refresh_from_db()
    assert organisation.idle_session_timeout_min == 30


def test_reset_second_factor_removes_device(client_for, clinic_admin, nurse) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    client_for(clinic_admin).post(reverse("accounts:staff_reset_2fa", args=[nurse.pk]))
    assert TOTPDevice.objects.filter(user=nurse).count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_clinic_settings_only_for_clinic_admin(role, request, client_for, clinic) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("accounts:clinic_edit", args=[clinic.pk]),
        {"name": "Renamed", "time_zone": "America/Chicago", "hours_mon": "08:00-18:00"},
    )
    clinic.refresh_from_db()
    if role == "clinic_admin":
        assert response.status_code == 302
        assert (clinic.name, clinic.time_zone, clinic.opening_hours) == (
            "Renamed",
            "America/Chicago",
            {"mon": [["08:00", "18:00"]]},
        )
    else:
        assert response.status_code == 403
        assert clinic.name == "Main Street"


def test_bad_opening_hours_and_time_zone_rerender_with_errors(client_for, clinic_admin, clinic) -> None:
    response = client_for(clinic_admin).post(
        reverse("accounts:clinic_edit", args=[clinic.pk]),
        {"name": "Main Street", "time_zone": "Mars/Olympus", "hours_tue": "18:00-08:00"},
    )
    assert response.status_code == 200
    assert "closes before it opens" in response.text
    assert "not a known time zone" in response.text
    clinic.refresh_from_db()
    assert clinic.time_zone == "America/New_York"


def test_staff_account_changes_are_audited_under_the_persons_clinic(clinic_admin, nurse, clinic) -> None:
    from conftest import own_api_token
    from ketaclinic.accounts.services import reset_second_factor, revoke_api_token, update_staff_account
    from ketaclinic.audit.models import AuditEvent

    update_staff_account(
        by=clinic_admin,
        user=nurse,
        first_name=nurse.first_name,
        last_name=nurse.last_name,
        email=nurse.email,
        role=Role.CLINICIAN,
        clinics=[clinic],
        is_active=True,
        credentials=nurse.credentials,
        phone=nurse.phone,
    )
    reset_second_factor(by=clinic_admin, user=nurse)
    own_api_token(nurse, "lab")
    token = revoke_api_token(by=clinic_admin, token=ApiToken.objects.get(user=nurse))
    events = list(AuditEvent.objects.filter(object_type="staff_account").order_by("pk"))
    assert [(e.action, e.actor_id, e.clinic_id, e.object_id) for e in events] == [
        ("update", clinic_admin.pk, clinic.pk, str(nurse.pk)),
        ("update", clinic_admin.pk, clinic.pk, str(nurse.pk)),
        ("update", clinic_admin.pk, clinic.pk, str(nurse.pk)),
    ]
    assert events[0].summary == f"{nurse.username}: role 'nurse' -> 'clinician'"
    assert events[1].summary == f"{nurse.username}: second factor reset"
    assert events[2].summary == f"{nurse.username}: API token {token.prefix}... revoked"


def test_saving_an_account_unchanged_writes_no_audit_entry(clinic_admin, nurse, clinic) -> None:
    from ketaclinic.accounts.services import update_staff_account
    from ketaclinic.audit.models import AuditEvent

    update_staff_account(
        by=clinic_admin,
        user=nurse,
        first_name=nurse.first_name,
        last_name=nurse.last_name,
        email=nurse.email,
        role=Role(nurse.role),
        clinics=[clinic],
        is_active=True,
        credentials=nurse.credentials,
        phone=nurse.phone,
    )
    assert not AuditEvent.objects.filter(object_type="staff_account").exists()


def _staff_post(member, clinic, npi: str) -> dict[str, object]:
    return {
        "first_name": member.first_name or "A",
        "last_name": member.last_name or "B",
        "email": member.email,
        "role": member.role,
        "clinics": [clinic.pk],
        "is_active": "on",
        "credentials": member.credentials,
        "phone": member.phone,
        "npi": npi,
    }


def test_admin_records_a_clinicians_npi_checked_by_its_check_digit(
    client_for, clinic_admin, clinician, clinic
):
    from ketaclinic.audit.models import AuditEvent

    url = reverse("accounts:staff_detail", args=[clinician.pk])
    refused = client_for(clinic_admin).post(url, _staff_post(clinician, clinic, "1234567890"))
    assert refused.status_code == 200
    assert "check digit does not match" in refused.text
    clinician.refresh_from_db()
    assert clinician.npi == ""
    saved = client_for(clinic_admin).post(url, _staff_post(clinician, clinic, "1234567802"))
    assert saved.status_code == 302
    clinician.refresh_from_db()
    assert clinician.npi == "1234567802"
    event = AuditEvent.objects.filter(object_type="staff_account", object_id=str(clinician.pk)).last()
    assert event is not None
    assert "npi '' -> '1234567802'" in event.summary


def test_the_service_refuses_a_bad_npi_whatever_the_door(clinic_admin, clinic) -> None:
    from ketaclinic.core.errors import DomainError

    with pytest.raises(DomainError) as caught:
        create_staff_account(
            by=clinic_admin,
            username="newdoc",
            first_name="New",
            last_name="Doc",
            email="",
            role=Role.CLINICIAN,
            clinics=[clinic],
            npi="123456789",
        )
    assert caught.value.field == "npi"
    assert not User.objects.filter(username="newdoc").exists()


def test_the_clinic_form_checks_the_clinics_npi(client_for, clinic_admin, clinic) -> None:
    from ketaclinic.accounts.forms import ClinicForm

    form = ClinicForm(data={"npi": "1234567890"}, instance=clinic)
    assert not form.is_valid()
    assert "check digit" in str(form.errors["npi"])
