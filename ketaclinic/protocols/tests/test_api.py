"""The protocol API: the same permissions as the pages, exact statuses, and nothing written when refused."""

import json
from typing import Any

import pytest
from django.test import Client

from conftest import ALL_ROLE_FIXTURES, own_api_token
from ketaclinic.accounts.models import User
from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.services import change_protocol_value, load_protocol_defaults
from ketaclinic.protocols.tests.conftest import snapshot
from ketaclinic.protocols.tests.shipped import SHIPPED_COUNT

pytestmark = pytest.mark.django_db

BASE = "/api/protocol"
VIEW_STATUS = {
    "clinician": 200,
    "nurse": 200,
    "front_desk": 403,
    "billing_clerk": 403,
    "custodian": 200,
    "clinic_admin": 200,
    "patient_user": 403,
    "guardian_user": 403,
    "outsider": 200,
}
CHANGE_STATUS = {
    "clinician": 201,
    "nurse": 403,
    "front_desk": 403,
    "billing_clerk": 403,
    "custodian": 403,
    "clinic_admin": 201,
    "patient_user": 403,
    "guardian_user": 403,
    "outsider": 201,
}


@pytest.fixture(autouse=True)
def defaults(db: Any) -> None:
    load_protocol_defaults()


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _change(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "value": "0.9",
        "source": "Clinic policy",
        "reason": "Lower hard stop",
        "verified": True,
    }
    body.update(overrides)
    return body


def test_matrices_cover_every_role() -> None:
    assert sorted(VIEW_STATUS) == sorted(CHANGE_STATUS) == sorted(ALL_ROLE_FIXTURES)


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
@pytest.mark.parametrize(
    "path", [f"{BASE}/", f"{BASE}/dose_standard_mg_per_kg", f"{BASE}/dose_standard_mg_per_kg/history"]
)
def test_reading_by_role(request: pytest.FixtureRequest, client_for: Any, role: str, path: str) -> None:
    response = client_for(request.getfixturevalue(role)).get(path)
    assert response.status_code == VIEW_STATUS[role]
    if response.status_code == 403:
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_changing_by_role(request: pytest.FixtureRequest, client_for: Any, role: str) -> None:
    rows = snapshot()
    response = _post(
        client_for(request.getfixturevalue(role)), f"{BASE}/dose_hard_stop_mg_per_kg/versions", _change()
    )
    assert response.status_code == CHANGE_STATUS[role]
    if response.status_code == 201:
        body = response.json()
        assert {
            key: body[key] for key in ("key", "population", "version", "value", "verified", "reason")
        } == {
            "key": "dose_hard_stop_mg_per_kg",
            "population": "all",
            "version": 2,
            "value": "0.9",
            "verified": True,
            "reason": "Lower hard stop",
        }
        assert body["corrects_version"] == 1
        assert body["changed_by"] == request.getfixturevalue(role).username
    else:
        assert response.json()["code"] == "permission_denied"
        assert snapshot() == rows


def test_signed_out_requests_get_401_and_change_nothing(client: Client) -> None:
    rows = snapshot()
    assert client.get(f"{BASE}/").status_code == 401
    response = _post(client, f"{BASE}/dose_hard_stop_mg_per_kg/versions", _change())
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert snapshot() == rows


def test_list_returns_every_entry_with_its_current_value(client_for: Any, nurse: User) -> None:
    response = client_for(nurse).get(f"{BASE}/", {"category": "consent"})
    assert response.status_code == 200
    assert [
        (row["key"], row["population"], row["value"], row["unit"], row["version"], row["verified"])
        for row in response.json()
    ] == [
        ("age_of_majority_years", "all", "18", "years", 1, False),
        ("assent_from_age_years", "all", "7", "years", 1, False),
        ("portal_own_view_from_age_years", "all", "13", "years", 1, False),
        ("portal_invitation_valid_days", "all", "14", "days", 1, False),
    ]
    assert len(client_for(nurse).get(f"{BASE}/").json()) == SHIPPED_COUNT


def test_reading_falls_back_to_all_and_keeps_decimals_exact(client_for: Any, nurse: User) -> None:
    response = client_for(nurse).get(f"{BASE}/dose_standard_mg_per_kg", {"population": "child"})
    assert response.status_code == 200
    body = response.json()
    assert {
        key: body[key] for key in ("key", "population", "value_kind", "value", "unit", "version", "verified")
    } == {
        "key": "dose_standard_mg_per_kg",
        "population": "all",
        "value_kind": "decimal",
        "value": "0.5",
        "unit": "mg/kg",
        "version": 1,
        "verified": True,
    }
    assert body["value_id"] == ProtocolParameter.objects.get(key="dose_standard_mg_per_kg").versions.get().pk


def test_reading_a_population_entry(client_for: Any, nurse: User) -> None:
    body = client_for(nurse).get(f"{BASE}/dose_range_max_mg_per_kg", {"population": "older_adult"}).json()
    assert (body["population"], body["value"], body["value_kind"]) == ("older_adult", "0.5", "decimal")


def test_unknown_key_is_404_with_a_code(client_for: Any, clinician: User) -> None:
    client = client_for(clinician)
    for response in (
        client.get(f"{BASE}/no_such_key"),
        client.get(f"{BASE}/no_such_key/history"),
        _post(client, f"{BASE}/no_such_key/versions", _change()),
        client.get(f"{BASE}/no_such_key", {"population": "child"}),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "protocol_missing"


def test_unknown_population_is_422(client_for: Any, clinician: User) -> None:
    response = client_for(clinician).get(f"{BASE}/dose_standard_mg_per_kg", {"population": "teen"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_history_lists_versions_newest_first(client_for: Any, clinician: User) -> None:
    parameter = ProtocolParameter.objects.get(key="age_of_majority_years")
    change_protocol_value(
        by=clinician, parameter=parameter, value="19", source="AL law", reason="AL", verified=True
    )
    body = client_for(clinician).get(f"{BASE}/age_of_majority_years/history").json()
    assert [(row["version"], row["value"], row["verified"], row["corrects_version"]) for row in body] == [
        (2, "19", True, 1),
        (1, "18", False, None),
    ]
    assert (body[0]["changed_by"], body[1]["changed_by"]) == ("clinician", None)


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (_change(value="zero point nine"), "invalid_value", "value"),
        (_change(value="-1"), "invalid_value", "value"),
        (_change(reason=""), "reason_required", "reason"),
        (_change(source="   "), "source_required", "source"),
    ],
)
def test_invalid_change_is_400_with_code_and_field_and_writes_nothing(
    client_for: Any, clinician: User, body: dict[str, Any], code: str, field: str
) -> None:
    rows = snapshot()
    response = _post(client_for(clinician), f"{BASE}/dose_hard_stop_mg_per_kg/versions", body)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert response.json()["message"]
    assert snapshot() == rows


def test_unchanged_change_is_400(client_for: Any, clinician: User) -> None:
    parameter = ProtocolParameter.objects.get(key="dose_hard_stop_mg_per_kg", population="all")
    source = parameter.versions.get().source
    rows = snapshot()
    response = _post(
        client_for(clinician),
        f"{BASE}/dose_hard_stop_mg_per_kg/versions",
        {"value": "1", "source": source, "reason": "again", "verified": False},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unchanged"
    assert snapshot() == rows


@pytest.mark.parametrize(
    "body", [{}, {"value": "0.9"}, {"value": "0.9", "source": "s", "reason": "r", "population": "teen"}]
)
def test_malformed_body_is_422_and_writes_nothing(
    client_for: Any, clinician: User, body: dict[str, Any]
) -> None:
    rows = snapshot()
    response = _post(client_for(clinician), f"{BASE}/dose_hard_stop_mg_per_kg/versions", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert snapshot() == rows


def test_non_json_body_is_refused_without_a_500(client_for: Any, clinician: User) -> None:
    rows = snapshot()
    response = client_for(clinician).post(
        f"{BASE}/dose_hard_stop_mg_per_kg/versions", data="not json", content_type="application/json"
    )
    assert response.status_code in {400, 422}
    assert snapshot() == rows


def test_change_for_a_population_entry(client_for: Any, clinician: User) -> None:
    response = _post(
        client_for(clinician),
        f"{BASE}/dose_range_max_mg_per_kg/versions",
        {
            "value": "0.45",
            "source": "Clinic policy",
            "reason": "Frail patients",
            "verified": True,
            "population": "older_adult",
        },
    )
    assert response.status_code == 201
    adult = ProtocolParameter.objects.get(key="dose_range_max_mg_per_kg", population="all")
    older = ProtocolParameter.objects.get(key="dose_range_max_mg_per_kg", population="older_adult")
    assert (adult.versions.count(), older.versions.count()) == (1, 2)


def test_session_post_without_csrf_token_is_refused(client_for: Any, clinician: User) -> None:
    client = client_for(clinician)
    client.handler.enforce_csrf_checks = True
    rows = snapshot()
    response = _post(client, f"{BASE}/dose_hard_stop_mg_per_kg/versions", _change())
    assert response.status_code == 403
    assert snapshot() == rows


def test_bearer_token_reads(clinician: User, clinic_admin: User) -> None:
    raw = own_api_token(clinician, "integration")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    response = client.get(f"{BASE}/infusion_duration_min")
    assert response.status_code == 200
    assert response.json()["value"] == "40"


def test_bearer_token_changes_without_csrf(clinician: User, clinic_admin: User) -> None:
    raw = own_api_token(clinician, "integration")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    response = _post(client, f"{BASE}/infusion_duration_min/versions", _change(value="45"))
    assert response.status_code == 201
    assert response.json()["changed_by"] == "clinician"


@pytest.mark.parametrize(
    "path", [f"{BASE}/%00", f"{BASE}/%00/history", f"{BASE}/{'x' * 500}", f"{BASE}/Dose%20Standard"]
)
def test_odd_keys_are_404_not_500(client_for: Any, clinician: User, path: str) -> None:
    response = client_for(clinician).get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "protocol_missing"


def test_odd_search_text_is_harmless(client_for: Any, clinician: User) -> None:
    response = client_for(clinician).get(f"{BASE}/", {"q": "\x00"})
    # A NUL byte is refused with a clear 400 by the kernel's input middleware (never a 500).
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
