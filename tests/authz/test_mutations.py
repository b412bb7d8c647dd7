"""The mutation check of the route registry: delete one permission check from the code and the route's
authorisation test must fail. Each mutation compiles the function that holds the check again with that one
line replaced by `pass` (line numbers unchanged), swaps it in for the test and puts the original back; the
files are never edited. Slow and only meaningful by hand, so it runs only when asked:

    KETACLINIC_AUTHZ_MUTATIONS=1 .venv/bin/pytest -q -n 0 -s tests/authz/test_mutations.py

(`KETACLINIC_AUTHZ_MUTATIONS=dosing,notes` runs those rows only.)

Each row names the check (file, line, its text, which must still be there) and the registry's cases for
the route(s) it guards. docs/authorisation.md keeps the table of the last run."""

import importlib
import inspect
import os
import types
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.authz.routes import ROUTES
from tests.authz.test_routes import test_route_refuses_everyone_the_permission_table_refuses as route_test
from tests.authz.world import World

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not os.environ.get("KETACLINIC_AUTHZ_MUTATIONS"), reason="the mutation check runs by hand"
    ),
    pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parents[2]

# One row per route: every permission check on its path (file, line, the check's text, which must still
# be there), and the route(s) whose registry cases must then fail. Where a route is checked twice (a lookup
# of the row it acts on, then the service that writes it), both are deleted: deleting one alone leaves the
# other refusing the same people. A repeat with nothing between (a view's `require` before a selector that
# checks the same permission first thing; `require` then `require_in_clinic` of the same permission) is gone
# from the code, and the rows marked "one check" prove that the check left is the one that refuses.
Check = tuple[str, int, str]
MUTATIONS: list[tuple[str, list[Check], list[str]]] = [
    (
        "inventory",
        [("ketaclinic/inventory/api.py", 153, "require_any(api_user(request), Perm.MANAGE_STOCK)")],
        ["POST /api/inventory/transfers"],
    ),
    (
        "dosing",
        [
            ("ketaclinic/dosing/api.py", 138, "services.require_prescriber(viewer)"),
            ("ketaclinic/dosing/services.py", 351, "require(by, Perm.PRESCRIBE)"),
        ],
        ["POST /api/dosing/patients/{patient_id}/orders"],
    ),
    (
        "dosing (cosign page, one check)",
        [("ketaclinic/dosing/selectors.py", 129, "require(viewer, perm)")],
        ["dosing:order_cosign"],
    ),
    (
        "infusions",
        [
            ("ketaclinic/infusions/views/care.py", 129, "require(request.user, Perm.REVIEW_ADVERSE_EVENTS)"),
            ("ketaclinic/infusions/services/care.py", 170, "require(by, Perm.REVIEW_ADVERSE_EVENTS)"),
        ],
        ["infusions:review_event"],
    ),
    (
        "scheduling (one check)",
        [("ketaclinic/scheduling/services/booking.py", 354, "require(by, Perm.BOOK_APPOINTMENT)")],
        ["POST /api/schedule/appointments/{appointment_id}/cancel"],
    ),
    (
        "billing",
        [("ketaclinic/billing/views/staff.py", 301, "require(viewer, Perm.ISSUE_INVOICE)")],
        ["billing:invoice_issue"],
    ),
    (
        "billing (invoice reads, one check)",
        [("ketaclinic/billing/selectors/accounts.py", 195, "require(viewer, Perm.VIEW_BILLING)")],
        ["GET /api/billing/invoices/{invoice_id}", "billing:invoice"],
    ),
    (
        "notes",
        [
            ("ketaclinic/notes/views/letters.py", 160, "require(by, Perm.RECORD_RELEASE_AUTHORISATION)"),
            ("ketaclinic/notes/services/letters.py", 105, "require(by, Perm.RECORD_RELEASE_AUTHORISATION)"),
        ],
        ["notes:authorisation_revoke"],
    ),
    (
        "portal",
        [("ketaclinic/portal/selectors.py", 673, "require(viewer, Perm.INVITE_TO_PORTAL)")],
        ["portal:invite"],
    ),
    (
        "accounts (one check)",
        [("ketaclinic/accounts/selectors.py", 66, "raise PermissionDenied()")],
        ["accounts:token_create"],
    ),
    (
        "screening",
        [
            ("ketaclinic/screening/services/inquiries.py", 74, "require(by, Perm.MANAGE_INQUIRIES)"),
            ("ketaclinic/screening/selectors/inquiries.py", 35, "require(viewer, Perm.MANAGE_INQUIRIES)"),
        ],
        ["POST /api/screening/inquiries/{inquiry_id}/notes"],
    ),
    (
        "screening (assessment pages, one check)",
        [("ketaclinic/screening/selectors/assessment.py", 54, "require(viewer, perm)")],
        ["screening:diagnosis_add", "screening:decision"],
    ),
    (
        "interop (HL7)",
        [
            ("ketaclinic/interop/hl7/services/inbound.py", 377, "require(by, Perm.MANAGE_INTERFACES)"),
            ("ketaclinic/interop/hl7/selectors.py", 166, "require(viewer, Perm.MANAGE_INTERFACES)"),
        ],
        ["hl7:message_dismiss"],
    ),
    (
        "interop (FHIR)",
        [
            (
                "ketaclinic/interop/fhir/selectors.py",
                102,
                'raise PermissionDenied(f"You may not read {resource_type} resources.")',
            )
        ],
        ["fhir:read"],
    ),
    (
        "measures",
        [("ketaclinic/measures/services.py", 542, "require(by, Perm.ACKNOWLEDGE_ALERT)")],
        ["POST /api/measures/alerts/{alert_id}/acknowledge"],
    ),
]
ONLY = {name.strip() for name in os.environ.get("KETACLINIC_AUTHZ_MUTATIONS", "").split(",")} - {"1", ""}


def _functions(module: types.ModuleType) -> Iterator[types.FunctionType]:
    """Every function defined in `module`, unwrapped from its decorators (login_required, atomic, ...)."""
    seen: set[int] = set()
    for value in vars(module).values():
        candidates = [value]
        if isinstance(value, type) and value.__module__ == module.__name__:
            candidates = list(vars(value).values())
        for candidate in candidates:
            function = inspect.unwrap(candidate) if callable(candidate) else candidate
            if (
                isinstance(function, types.FunctionType)
                and function.__module__ == module.__name__
                and id(function) not in seen
            ):
                seen.add(id(function))
                yield function


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _nearest_line(lines: list[str], line: int, text: str, path: str) -> int:
    """The number of the line holding exactly `text` nearest to `line` (edits elsewhere in the file move a
    check without changing it; the row's number says which of several equal checks is meant)."""
    holding = [number for number, content in enumerate(lines, start=1) if content.strip() == text]
    assert holding, f"{path} no longer holds {text!r}"
    return min(holding, key=lambda number: abs(number - line))


@contextmanager
def mutated(path: str, line: int, text: str) -> Iterator[None]:
    """The function holding line `line` of `path` runs without it (the line becomes `pass`) inside the
    block."""
    source = (ROOT / path).read_text()
    lines = source.splitlines(keepends=True)
    line = _nearest_line(lines, line, text, path)
    original = lines[line - 1]
    indent = original[: len(original) - len(original.lstrip())]
    lines[line - 1] = f"{indent}pass\n"
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    target = next(
        function
        for function in _functions(module)
        if function.__code__.co_firstlineno <= line
        and line in {number for _s, _e, number in function.__code__.co_lines() if number}
    )
    compiled = compile("".join(lines), str(ROOT / path), "exec")
    replacement = next(
        code
        for code in _code_objects(compiled)
        if code.co_name == target.__code__.co_name and code.co_firstlineno == target.__code__.co_firstlineno
    )
    kept = target.__code__
    target.__code__ = replacement
    try:
        yield
    finally:
        target.__code__ = kept


def _cases(keys: list[str]) -> list[tuple[str, int]]:
    return [(key, index) for key in keys for index in range(len(ROUTES[key]))]


@pytest.mark.parametrize(
    ("app", "checks", "keys"),
    [pytest.param(*row, id=row[0]) for row in MUTATIONS if not ONLY or row[0] in ONLY],
)
def test_deleting_the_check_fails_the_route_test(
    world: World, app: str, checks: list[Check], keys: list[str]
) -> None:
    for key, index in _cases(keys):
        route_test(world, key, index)  # green before the mutation
    failures: dict[str, str] = {}
    with ExitStack() as stack:
        for path, line, text in checks:
            stack.enter_context(mutated(path, line, text))
        for key, index in _cases(keys):
            try:
                route_test(world, key, index)
            except pytest.fail.Exception as failure:
                lines = str(failure).splitlines()
                failures[f"{key}#{index}"] = lines[1] if len(lines) > 1 else lines[0]
    for key, index in _cases(keys):
        route_test(world, key, index)  # green again once the code is back
    where = ", ".join(f"{path}:{line}" for path, line, _text in checks)
    print(f"\nMUTATION {app}: {where} removed -> failing: {failures}")
    assert failures, f"deleting {where} left every test of {keys} green"
