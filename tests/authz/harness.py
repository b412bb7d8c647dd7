"""Runs one registry operation as every principal and checks the exact status and that a refusal writes
nothing. Used by test_routes.py; kept apart so the registry stays a table."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from ketaclinic.accounts.permissions import Perm, role_can
from ketaclinic.accounts.roles import Role
from tests.authz.world import DEMO_USER_FOR_ROLE, STAFF_ROLES, World

Builder = Callable[[World], dict[str, Any]]

_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)
# Tables a refused request may write: the session row (Django saves a session it changed) and nothing else.
_IGNORED_TABLES = {"django_session"}


def _none(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Op:
    """One way to call a route: its method, the permissions of which any one lets a person through, the URL
    arguments and a valid body (built from the shared world), and the status an allowed person gets."""

    method: str
    perms: tuple[Perm, ...]
    ok: int
    args: Builder = _none
    body: Builder = _none
    query: Builder = _none
    # The route names an object of the main clinic: a person of another clinic with the permission gets 404.
    scoped: bool = True
    # Roles that hold the permission yet are refused for a reason of the route's own (say, an order must be
    # co-signed by someone other than its prescriber), with the status they get.
    also_refused: dict[Role, int] = field(default_factory=dict)
    # The body is sent as JSON (API) or as a form (pages).
    json: bool = False
    # A person of another clinic who holds the permission gets this instead of 404: a form whose choices are
    # only their own clinic's rows answers 200 with "not a valid choice" (nothing is written).
    other_clinic_status: int | None = None
    # A person of another clinic who lacks the permission but holds one of these gets 404, not 403: the page
    # looks the object up (for reading) before it checks the write permission.
    seen_by: tuple[Perm, ...] = ()
    # A POST that only computes (a dose calculation): allowed callers write nothing either.
    writes: bool = True
    # Run inside the case's savepoint before the call (not counted as the call's writes): makes the row the
    # call acts on, e.g. a fresh draw for a waste.
    prepare: Callable[[World], None] | None = None
    # Roles let through whatever permissions they hold: a page guarded by the role itself (a person's own
    # account page is for staff), not by a permission.
    roles: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Principal:
    label: str
    username: str | None  # None: anonymous
    role: Role | None
    other_clinic: bool = False


def principals() -> list[Principal]:
    people = [
        Principal("anonymous", None, None),
        Principal("patient", "lena", Role.PATIENT),
        Principal("guardian", "claire", Role.GUARDIAN),
    ]
    people += [Principal(role.value, DEMO_USER_FOR_ROLE[role], role) for role in STAFF_ROLES]
    people += [
        Principal(f"other-clinic {role.value}", f"lake-{role.value}", role, True) for role in STAFF_ROLES
    ]
    return people


def expected_status(op: Op, who: Principal, *, api: bool) -> int:
    if who.username is None:
        return 401 if api else 302
    granted = who.role is not None and (
        who.role in op.roles or any(role_can(who.role.value, perm) for perm in op.perms)
    )
    if not granted:
        sees = who.role is not None and any(role_can(who.role.value, perm) for perm in op.seen_by)
        return 404 if who.other_clinic and op.scoped and sees else 403
    if who.other_clinic and op.scoped:
        return op.other_clinic_status or 404
    if who.role in op.also_refused:
        return op.also_refused[who.role]
    return op.ok


@contextmanager
def writes_recorded() -> Iterator[list[tuple[str, str]]]:
    """Every INSERT, UPDATE and DELETE the database is sent while the block runs, as (verb, table)."""
    seen: list[tuple[str, str]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        match = _WRITE.match(sql)
        if match and match.group(2) not in _IGNORED_TABLES:
            seen.append((match.group(1).split()[0].upper(), match.group(2)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


def call(client: Client, key: str, op: Op, world: World) -> HttpResponse:
    if key.startswith(("GET ", "POST ", "PATCH ", "PUT ", "DELETE ")):
        _method, template = key.split(" ", 1)
        url = template.format(**op.args(world))
    else:
        url = reverse(key, kwargs=op.args(world) or None)
    query = op.query(world)
    method = getattr(client, op.method.lower())
    if op.method == "GET":
        return method(url, query)  # type: ignore[no-any-return]
    if query:
        from urllib.parse import urlencode

        url = f"{url}?{urlencode(query)}"
    body = op.body(world)
    if op.json:
        import json

        return method(url, json.dumps(body), content_type="application/json")  # type: ignore[no-any-return]
    return method(url, body)  # type: ignore[no-any-return]


@contextmanager
def prepared(op: Op, world: World) -> Iterator[None]:
    """The case's starting point: `op.prepare` run once, in a savepoint rolled back when the block ends. Each
    principal's call inside the block runs in a savepoint of its own (`run_as`), rolled back too, so every
    principal meets the same prepared rows (preparing them again for each would build the same rows twenty
    times). The protocol's readings are cached while preparing, as they are within a request."""
    from ketaclinic.protocols.selectors import readings_cached

    with transaction.atomic():
        if op.prepare is not None:
            with readings_cached():
                op.prepare(world)
        yield
        transaction.set_rollback(True)


def run_as(client: Client, key: str, op: Op, world: World) -> tuple[HttpResponse, list[tuple[str, str]]]:
    """One call in its own savepoint, rolled back: every principal starts from the same world (inside
    `prepared`, from the same prepared world)."""
    with transaction.atomic():
        with writes_recorded() as writes:
            response = call(client, key, op, world)
        transaction.set_rollback(True)
    return response, writes


def page_route_names() -> set[str]:
    """Every named URL pattern except Django's admin and the API's operations, as `namespace:name`."""
    from django.urls import URLPattern, URLResolver, get_resolver

    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                if inner == "admin":
                    continue
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                if namespace == "api" and getattr(pattern.callback, "__module__", "") == "ninja.operation":
                    continue  # an API operation: listed by api_operation_keys()
                assert pattern.name, f"an unnamed URL pattern: {pattern.pattern}"
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def api_operation_keys() -> set[str]:
    """Every operation of the NinjaAPI, as `METHOD /api/path/{param}`, from its OpenAPI schema."""
    from config.api import api

    schema = api.get_openapi_schema()
    return {
        f"{method.upper()} {path}" for path, operations in schema["paths"].items() for method in operations
    }
