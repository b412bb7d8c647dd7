"""Authorisation proven per route: every URL pattern and API operation, called with a valid body by every
role, a patient, a guardian, anonymous and a person of another clinic. Each gets the exact status the
permission table gives them (403 without the permission, 404 for another clinic's row, 302 to sign-in or 401
when anonymous), refusals write nothing, and the allowed roles succeed, which proves the body was valid.

The world (the demo clinic, built through the services) is made once for the package (conftest.py); every
call runs in its own savepoint and is rolled back."""

import re
from typing import Any

import pytest

from tests.authz.harness import (
    Op,
    Principal,
    api_operation_keys,
    expected_status,
    page_route_names,
    prepared,
    principals,
    run_as,
)
from tests.authz.routes import PENDING, PENDING_POSTS, PUBLIC, ROUTES, SIGNED_IN
from tests.authz.world import World

pytestmark = [
    pytest.mark.django_db,
    # WeasyPrint warns about an optional font library on machines without it; the PDFs are still made.
    pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning"),
]


def _unregistered() -> list[str]:
    """The routes of the URL configuration in force that the registry does not name."""
    known = set(ROUTES) | set(PUBLIC) | set(SIGNED_IN) | set(PENDING)
    return sorted((page_route_names() | api_operation_keys()) - known)


def test_every_route_is_registered() -> None:
    """A route no permission covers fails here: add it to routes.py with its permission and a valid body."""
    known = set(ROUTES) | set(PUBLIC) | set(SIGNED_IN) | set(PENDING)
    every = page_route_names() | api_operation_keys()
    assert _unregistered() == [], "routes with no entry in tests/authz/routes.py"
    assert sorted(known - every) == [], "entries in tests/authz/routes.py for routes that no longer exist"
    overlap = set(ROUTES) & (set(PUBLIC) | set(SIGNED_IN) | set(PENDING))
    assert overlap == set()
    # A page whose form gained its POST case leaves the pending list.
    assert sorted(PENDING_POSTS - page_route_names()) == []
    assert sorted(k for k in PENDING_POSTS if any(op.method == "POST" for op in ROUTES.get(k, []))) == []


@pytest.mark.urls("tests.authz.unguarded_urls")
def test_a_route_no_permission_covers_fails_the_registry_check() -> None:
    """The check above is not vacuous: one page added to the project's URLs without a registry entry (and
    without any permission check) is reported, and only it."""
    assert _unregistered() == ["unguarded_page"]


def test_every_write_operation_has_a_valid_body_case() -> None:
    """Every API write and every page route that accepts POST has a POST case (or is listed as PENDING)."""
    api_writes = {key for key in api_operation_keys() if not key.startswith("GET ")}
    missing = sorted(k for k in api_writes - set(PENDING) - set(PUBLIC) if k not in ROUTES)
    assert missing == []


def _cases() -> list[Any]:
    cases = []
    for key, ops in sorted(ROUTES.items()):
        for index, op in enumerate(ops):
            cases.append(pytest.param(key, index, id=f"{op.method} {key}" + (f"#{index}" if index else "")))
    return cases


def _is_api(key: str) -> bool:
    # The FHIR endpoints are an API too: anonymous callers get 401 (an OperationOutcome), not a redirect.
    return bool(re.match(r"^[A-Z]+ /api/", key)) or key.startswith("fhir:")


@pytest.mark.parametrize(("key", "index"), _cases())
def test_route_refuses_everyone_the_permission_table_refuses(world: World, key: str, index: int) -> None:
    op: Op = ROUTES[key][index]
    api = _is_api(key)
    problems: list[str] = []
    with prepared(op, world):
        for who in principals():
            problems += _problems(who, key, op, world, api=api)
    if problems:
        pytest.fail(f"{op.method} {key}:\n" + "\n".join(problems), pytrace=False)


def _problems(who: Principal, key: str, op: Op, world: World, *, api: bool) -> list[str]:
    """What is wrong with one principal's call of the route: its status, where it was sent, what it wrote."""
    response, writes = run_as(world.clients[who.label], key, op, world)  # type: ignore[attr-defined]
    expected = expected_status(op, who, api=api)
    if response.status_code != expected:
        return [f"{who.label}: {response.status_code}, expected {expected}{_detail(response)}"]
    problems: list[str] = []
    if expected == 302 and who.username is None and not response["Location"].startswith("/accounts/login/"):
        problems.append(f"{who.label}: redirected to {response['Location']}, not to sign-in")
    refused = (
        expected in (401, 403, 404)
        or (expected == 302 and who.username is None)
        # Another clinic's row, offered to a form that lists only the person's own clinic's rows.
        or (who.other_clinic and op.scoped)
        # A role holding the permission, refused by a rule of the route's own (`also_refused`): a form
        # shown again with the reason (422) writes nothing either.
        or (who.role is not None and expected == op.also_refused.get(who.role))
    )
    if refused and _data_writes(writes):
        problems.append(f"{who.label}: refused yet wrote {sorted(set(_data_writes(writes)))}")
    if not refused and op.method != "GET" and op.writes and not _data_writes(writes):
        problems.append(f"{who.label}: allowed, answered {expected}, but wrote nothing")
    return problems


def _data_writes(writes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Writes other than the audit trail: reading a record is audited, and a refused request may be too."""
    return [(verb, table) for verb, table in writes if table != "audit_auditevent"]


def _detail(response: Any) -> str:
    if response.status_code in (301, 302):
        return f" -> {response['Location']}"
    content = getattr(response, "content", b"")[:300]
    return f" {content!r}" if response.status_code in (400, 409, 422) or response.status_code >= 500 else ""


def test_principals_cover_every_role() -> None:
    from ketaclinic.accounts.roles import Role

    assert {who.role for who in principals() if who.role} == set(Role)
    assert any(who.username is None for who in principals())
    assert any(who.other_clinic for who in principals())
