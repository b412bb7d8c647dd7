"""The protocol pages: who may see and change them, and that refused or invalid posts change nothing."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.accounts.models import User
from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.services import change_protocol_value, load_protocol_defaults
from ketaclinic.protocols.tests.conftest import snapshot
from ketaclinic.protocols.tests.shipped import SHIPPED_COUNT

pytestmark = pytest.mark.django_db

# Status per role: viewing the pages, and posting a change or confirmation (302 = saved, then redirected).
VIEW_STATUS = {
    "clinician": 200,
    "nurse": 200,
    "front_desk": 403,
    "billing_clerk": 403,
    "custodian": 200,
    "clinic_admin": 200,
    "patient_user": 403,
    "guardian_user": 403,
    "outsider": 200,  # a clinician of another clinic: the protocol belongs to the whole organisation
}
CHANGE_STATUS = {
    "clinician": 302,
    "nurse": 403,
    "front_desk": 403,
    "billing_clerk": 403,
    "custodian": 403,
    "clinic_admin": 302,
    "patient_user": 403,
    "guardian_user": 403,
    "outsider": 302,
}
ROLES = list(VIEW_STATUS)


@pytest.fixture
def dose() -> ProtocolParameter:
    load_protocol_defaults()
    return ProtocolParameter.objects.get(key="dose_hard_stop_mg_per_kg", population="all")


def _client(request: pytest.FixtureRequest, client_for: Any, role: str) -> Client:
    client: Client = client_for(request.getfixturevalue(role))
    return client


def _change_data(**overrides: str) -> dict[str, str]:
    data = {"value": "0.9", "source": "Clinic policy 2026", "reason": "Lower hard stop", "verified": "on"}
    data.update(overrides)
    return data


def test_all_roles_are_covered() -> None:
    from conftest import ALL_ROLE_FIXTURES

    assert sorted(ROLES) == sorted(ALL_ROLE_FIXTURES) == sorted(CHANGE_STATUS)


@pytest.mark.parametrize("role", ROLES)
def test_list_page_access_by_role(
    request: pytest.FixtureRequest, client_for: Any, dose: ProtocolParameter, role: str
) -> None:
    response = _client(request, client_for, role).get(reverse("protocols:list"))
    assert response.status_code == VIEW_STATUS[role]


@pytest.mark.parametrize("role", ROLES)
def test_detail_page_access_by_role(
    request: pytest.FixtureRequest, client_for: Any, dose: ProtocolParameter, role: str
) -> None:
    response = _client(request, client_for, role).get(reverse("protocols:detail", args=[dose.pk]))
    assert response.status_code == VIEW_STATUS[role]


@pytest.mark.parametrize("role", ROLES)
def test_change_by_role(
    request: pytest.FixtureRequest, client_for: Any, dose: ProtocolParameter, role: str
) -> None:
    client = _client(request, client_for, role)
    rows = snapshot()
    response = client.post(reverse("protocols:change", args=[dose.pk]), _change_data())
    assert response.status_code == CHANGE_STATUS[role]
    if response.status_code == 302:
        assert response["Location"] == reverse("protocols:detail", args=[dose.pk])
        current = dose.versions.order_by("-version").first()
        assert current is not None
        assert (current.version, current.value, current.verified, current.reason) == (
            2,
            "0.9",
            True,
            "Lower hard stop",
        )
    else:
        assert snapshot() == rows


@pytest.mark.parametrize("role", ROLES)
def test_confirm_by_role(
    request: pytest.FixtureRequest, client_for: Any, dose: ProtocolParameter, role: str
) -> None:
    client = _client(request, client_for, role)
    rows = snapshot()
    response = client.post(
        reverse("protocols:confirm", args=[dose.pk]), {"confirm-reason": "Checked Fava 2018"}
    )
    assert response.status_code == CHANGE_STATUS[role]
    if response.status_code == 302:
        current = dose.versions.order_by("-version").first()
        assert current is not None
        assert (current.version, current.value, current.verified) == (2, "1.0", True)
    else:
        assert snapshot() == rows


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, dose: ProtocolParameter) -> None:
    rows = snapshot()
    for response in (
        client.get(reverse("protocols:list")),
        client.get(reverse("protocols:detail", args=[dose.pk])),
        client.post(reverse("protocols:change", args=[dose.pk]), _change_data()),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert snapshot() == rows


def test_list_shows_unverified_values_as_confirm_before_use(client_for: Any, clinician: User) -> None:
    response = client_for(clinician).get(reverse("protocols:list"), {"category": "consent"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Age of majority" in content
    assert "Child&#x27;s assent sought from age" in content
    # The two age limits and the portal's two (its own-view age and how long an invitation lasts).
    assert content.count("Confirm before use") == 4
    assert "4 to confirm before use" in content
    assert "Standard IV ketamine dose" not in content


def test_list_searches_names_and_sources(client_for: Any, clinician: User) -> None:
    response = client_for(clinician).get(reverse("protocols:list"), {"q": "Neuropsychiatr Dis Treat"})
    content = response.content.decode()
    assert "Expected return of BP and HR to baseline" in content
    assert "Standard IV ketamine dose" not in content


def test_list_ignores_an_unknown_category_and_shows_the_error(client_for: Any, clinician: User) -> None:
    response = client_for(clinician).get(reverse("protocols:list"), {"category": "nonsense"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert len(response.context["rows"]) == SHIPPED_COUNT


def test_detail_shows_value_source_and_history(
    client_for: Any, clinician: User, dose: ProtocolParameter
) -> None:
    change_protocol_value(
        by=clinician, parameter=dose, value="0.9", source="Policy", reason="Safer", verified=False
    )
    response = client_for(clinician).get(reverse("protocols:detail", args=[dose.pk]))
    content = response.content.decode()
    assert "<strong>0.9 mg/kg</strong>" in content
    assert "Confirm before use." in content
    assert "Safer" in content
    assert "Fava 2018 Mol Psychiatry" in content  # version 1's source, in the history
    assert "ketaclinic defaults" in content
    assert [version.version for version in response.context["history"].versions] == [2, 1]
    assert "Change this value" in content
    assert "Confirm as correct" in content


def test_detail_hides_the_forms_from_those_who_may_only_view(
    client_for: Any, nurse: User, dose: ProtocolParameter
) -> None:
    response = client_for(nurse).get(reverse("protocols:detail", args=[dose.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Change this value" not in content
    assert "Confirm as correct" not in content
    assert response.context["change_form"] is None


def test_unknown_entry_is_not_found(client_for: Any, clinician: User) -> None:
    assert client_for(clinician).get(reverse("protocols:detail", args=[999_999])).status_code == 404
    assert (
        client_for(clinician).post(reverse("protocols:change", args=[999_999]), _change_data()).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (_change_data(value="one"), "value", "'one' is not a plain number."),
        (_change_data(value="-1"), "value", "cannot be negative"),
        (_change_data(reason="  "), "reason", "This field is required."),
        (_change_data(source=""), "source", "This field is required."),
    ],
)
def test_invalid_change_re_renders_with_field_errors_and_changes_nothing(
    client_for: Any, clinician: User, dose: ProtocolParameter, data: dict[str, str], field: str, message: str
) -> None:
    rows = snapshot()
    response = client_for(clinician).post(reverse("protocols:change", args=[dose.pk]), data)
    assert response.status_code == 200
    errors = response.context["change_form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert snapshot() == rows


def test_unchanged_submission_is_refused_as_a_form_error(
    client_for: Any, clinician: User, dose: ProtocolParameter
) -> None:
    rows = snapshot()
    current = dose.versions.get()
    data = {"value": "1.00", "source": current.source, "reason": "Resave"}  # verified unticked, as shipped
    response = client_for(clinician).post(reverse("protocols:change", args=[dose.pk]), data)
    assert response.status_code == 200
    assert response.context["change_form"].non_field_errors() == [
        "Nothing changed: value, source and 'verified' are the same as version 1. "
        "To confirm the current value, use 'Confirm as correct'."
    ]
    assert snapshot() == rows


def test_confirm_without_reason_re_renders_and_changes_nothing(
    client_for: Any, clinician: User, dose: ProtocolParameter
) -> None:
    rows = snapshot()
    response = client_for(clinician).post(
        reverse("protocols:confirm", args=[dose.pk]), {"confirm-reason": " "}
    )
    assert response.status_code == 200
    assert response.context["confirm_form"].errors == {"reason": ["This field is required."]}
    assert snapshot() == rows


def test_change_and_confirm_accept_only_post(
    client_for: Any, clinician: User, dose: ProtocolParameter
) -> None:
    client = client_for(clinician)
    assert client.get(reverse("protocols:change", args=[dose.pk])).status_code == 405
    assert client.get(reverse("protocols:confirm", args=[dose.pk])).status_code == 405


def test_saved_change_shows_on_the_next_page(
    client_for: Any, clinician: User, dose: ProtocolParameter
) -> None:
    response = client_for(clinician).post(
        reverse("protocols:change", args=[dose.pk]), _change_data(), follow=True
    )
    content = response.content.decode()
    assert "Saved as version 2." in content
    assert "<strong>0.9 mg/kg</strong>" in content


def test_list_page_queries_do_not_grow_with_versions(
    client_for: Any, clinician: User, dose: ProtocolParameter
) -> None:
    client = client_for(clinician)
    client.get(reverse("protocols:list"))  # warm the session
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("protocols:list"))
    for index in range(5):
        change_protocol_value(
            by=clinician, parameter=dose, value=f"0.{index + 1}", source="s", reason="r", verified=True
        )
    with CaptureQueriesContext(connection) as after:
        response = client.get(reverse("protocols:list"))
    assert response.status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)
