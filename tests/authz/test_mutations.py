"""The mutation check of the route registry: delete one permission check from the code and the route's
authorisation test must fail. Each mutation compiles the function that holds the check again with that one
line replaced by `pass` (line numbers unchanged), swaps it in for the test and puts the original back; the
files are never edited. Slow and only meaningful by hand, so it runs only when asked:

    KETACLINIC_AUTHZ_MUTATIONS=1 .venv/bin/pytest -q -n 0 -s tests/authz/test_mutations.py

(`KETACLINIC_AUTHZ_MUTATIONS=dosing,notes` runs those rows only.)

Each row names the check (file, the function holding it, its text, which must stand there once) and the
registry's cases for the route(s) it guards. Edit no file of the tree while it runs: the check is looked up
in the file on disk and swapped into the module already imported. docs/authorisation.md keeps the table of
the last run."""

import ast
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

# One row per route: every permission check on its path (file, the function holding it, the check's text,
# which must stand exactly once in that function), and the route(s) whose registry cases must then fail.
# Naming the function rather than a line keeps a row true when edits elsewhere move the check, and fails it
# loudly when the check leaves its function. Where a route is checked twice (a lookup of the row it acts on,
# then the service that writes it), both are deleted: deleting one alone leaves the other refusing the same
# people. A repeat with nothing between (a view's `require` before a selector that checks the same
# permission first thing; `require` then `require_in_clinic` of the same permission) is gone from the code,
# and the rows marked "one check" prove that the check left is the one that refuses.
Check = tuple[str, str, str]
MUTATIONS: list[tuple[str, list[Check], list[str]]] = [
    (
        "inventory",
        [
            (
                "ketaclinic/inventory/api.py",
                "create_transfer",
                "require_any(api_user(request), Perm.MANAGE_STOCK)",
            )
        ],
        ["POST /api/inventory/transfers"],
    ),
    (
        "dosing",
        [
            ("ketaclinic/dosing/api.py", "create_order", "services.require_prescriber(viewer)"),
            ("ketaclinic/dosing/services.py", "prescribe_dose_order", "require(by, Perm.PRESCRIBE)"),
        ],
        ["POST /api/dosing/patients/{patient_id}/orders"],
    ),
    (
        "dosing (cosign page, one check)",
        [("ketaclinic/dosing/selectors.py", "order_for", "require(viewer, perm)")],
        ["dosing:order_cosign"],
    ),
    (
        "infusions",
        [
            (
                "ketaclinic/infusions/views/care.py",
                "review_event",
                "require(request.user, Perm.REVIEW_ADVERSE_EVENTS)",
            ),
            (
                "ketaclinic/infusions/services/care.py",
                "review_serious_event",
                "require(by, Perm.REVIEW_ADVERSE_EVENTS)",
            ),
        ],
        ["infusions:review_event"],
    ),
    (
        "infusions (pump page)",
        [
            (
                "ketaclinic/infusions/views/chair.py",
                "pump_event",
                "require(actor(request), Perm.RUN_INFUSION)",
            ),
            ("ketaclinic/infusions/selectors/visit.py", "visit_for", "require(viewer, Perm.VIEW_INFUSION)"),
            ("ketaclinic/infusions/services/visit.py", "record_pump_event", "require(by, Perm.RUN_INFUSION)"),
        ],
        ["infusions:pump_event"],
    ),
    (
        "infusions (side-effect API)",
        [
            ("ketaclinic/infusions/selectors/visit.py", "visit_for", "require(viewer, Perm.VIEW_INFUSION)"),
            ("ketaclinic/infusions/services/care.py", "record_side_effect", "require(by, Perm.RUN_INFUSION)"),
        ],
        ["POST /api/infusions/visits/{visit_id}/side-effects"],
    ),
    (
        "infusions (override decision API)",
        [
            (
                "ketaclinic/infusions/api/discharge.py",
                "post_override_decision",
                "require(viewer, Perm.OVERRIDE_HARD_STOP)",
            ),
            (
                "ketaclinic/infusions/selectors/care.py",
                "override_request_for",
                "require(viewer, Perm.VIEW_INFUSION)",
            ),
            (
                "ketaclinic/infusions/services/override_requests.py",
                "decide_discharge_override",
                "require(by, Perm.OVERRIDE_HARD_STOP)",
            ),
        ],
        ["POST /api/infusions/discharge-override-requests/{request_id}/decision"],
    ),
    (
        "infusions (discharge instructions, one check)",
        [("ketaclinic/infusions/selectors/visit.py", "visit_for", "require(viewer, Perm.VIEW_INFUSION)")],
        ["infusions:discharge_instructions_pdf"],
    ),
    (
        "scheduling (one check)",
        [
            (
                "ketaclinic/scheduling/services/booking.py",
                "_change_status",
                "require(by, Perm.BOOK_APPOINTMENT)",
            )
        ],
        ["POST /api/schedule/appointments/{appointment_id}/cancel"],
    ),
    (
        "billing",
        [("ketaclinic/billing/views/staff.py", "invoice_issue", "require(viewer, Perm.ISSUE_INVOICE)")],
        ["billing:invoice_issue"],
    ),
    (
        "billing (invoice reads, one check)",
        [
            (
                "ketaclinic/billing/selectors/accounts.py",
                "invoice_detail",
                "require(viewer, Perm.VIEW_BILLING)",
            )
        ],
        ["GET /api/billing/invoices/{invoice_id}", "billing:invoice"],
    ),
    (
        "notes",
        [
            (
                "ketaclinic/notes/views/letters.py",
                "authorisation_revoke",
                "require(by, Perm.RECORD_RELEASE_AUTHORISATION)",
            ),
            (
                "ketaclinic/notes/services/letters.py",
                "revoke_authorisation",
                "require(by, Perm.RECORD_RELEASE_AUTHORISATION)",
            ),
        ],
        ["notes:authorisation_revoke"],
    ),
    (
        "portal",
        [("ketaclinic/portal/selectors.py", "patient_to_invite", "require(viewer, Perm.INVITE_TO_PORTAL)")],
        ["portal:invite"],
    ),
    (
        "accounts (one check)",
        [("ketaclinic/accounts/selectors.py", "staff_for", "raise PermissionDenied()")],
        ["accounts:token_create"],
    ),
    (
        "screening",
        [
            (
                "ketaclinic/screening/services/inquiries.py",
                "_require_inquiry",
                "require(by, Perm.MANAGE_INQUIRIES)",
            ),
            (
                "ketaclinic/screening/selectors/inquiries.py",
                "inquiry_for",
                "require(viewer, Perm.MANAGE_INQUIRIES)",
            ),
        ],
        ["POST /api/screening/inquiries/{inquiry_id}/notes"],
    ),
    (
        "screening (assessment pages, one check)",
        [("ketaclinic/screening/selectors/assessment.py", "patient_for", "require(viewer, perm)")],
        ["screening:diagnosis_add", "screening:decision"],
    ),
    (
        "interop (HL7)",
        [
            (
                "ketaclinic/interop/hl7/services/inbound.py",
                "_check_message_access",
                "require(by, Perm.MANAGE_INTERFACES)",
            ),
            (
                "ketaclinic/interop/hl7/selectors.py",
                "message_to_act_on",
                "require(viewer, Perm.MANAGE_INTERFACES)",
            ),
        ],
        ["hl7:message_dismiss"],
    ),
    (
        "interop (FHIR)",
        [
            (
                "ketaclinic/interop/fhir/selectors.py",
                "require_read",
                'raise PermissionDenied(f"You may not read {resource_type} resources.")',
            )
        ],
        ["fhir:read"],
    ),
    (
        "measures",
        [("ketaclinic/measures/services.py", "acknowledge_alert", "require(by, Perm.ACKNOWLEDGE_ALERT)")],
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


def _line_of(source: str, function: str, text: str, path: str) -> int:
    """The number of the one line holding exactly `text` in the function (or method) named `function` of
    `source`: a check that left its function, or stands there twice, fails the row rather than mutating
    another check of the file."""
    spans = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function
    ]
    assert len(spans) == 1, f"{path} defines {function} {len(spans)} times"
    first, last = spans[0]
    lines = source.splitlines()
    holding = [number for number in range(first, last + 1) if lines[number - 1].strip() == text]
    assert len(holding) == 1, f"{path}:{function} holds {text!r} {len(holding)} times"
    return holding[0]


@contextmanager
def mutated(path: str, function: str, text: str) -> Iterator[int]:
    """Inside the block, `function` of `path` runs without the line holding `text` (it becomes `pass`);
    yields that line's number."""
    source = (ROOT / path).read_text()
    line = _line_of(source, function, text, path)
    lines = source.splitlines(keepends=True)
    original = lines[line - 1]
    indent = original[: len(original) - len(original.lstrip())]
    lines[line - 1] = f"{indent}pass\n"
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    target = next(
        candidate
        for candidate in _functions(module)
        if candidate.__code__.co_name == function
        and line in {number for _s, _e, number in candidate.__code__.co_lines() if number}
    )  # none: the module in memory is not the file on disk (edited during the run)
    compiled = compile("".join(lines), str(ROOT / path), "exec")
    replacement = next(
        code
        for code in _code_objects(compiled)
        if code.co_name == target.__code__.co_name and code.co_firstlineno == target.__code__.co_firstlineno
    )
    kept = target.__code__
    target.__code__ = replacement
    try:
        yield line
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
    where: list[str] = []
    with ExitStack() as stack:
        for path, function, text in checks:
            line = stack.enter_context(mutated(path, function, text))
            where.append(f"{path}:{line} ({function}) {text}")
        for key, index in _cases(keys):
            try:
                route_test(world, key, index)
            except pytest.fail.Exception as failure:
                lines = str(failure).splitlines()
                failures[f"{key}#{index}"] = lines[1] if len(lines) > 1 else lines[0]
    for key, index in _cases(keys):
        route_test(world, key, index)  # green again once the code is back
    print(f"\nMUTATION {app}: {'; '.join(where)} removed -> failing: {failures}")
    assert failures, f"deleting {'; '.join(where)} left every test of {keys} green"
