"""Role fixtures shared by every test: one signed-up person per role, all in the demo clinic."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, settings

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.core.models import Clinic, Organisation

# Tests never assert a duration: on a shared 2-core machine running the suites in parallel, an example may
# take longer than hypothesis's default 200 ms deadline without anything being wrong.
settings.register_profile("ketaclinic", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ketaclinic")

TEST_PASSWORD = "correct-horse-battery-staple"

# The fixtures through which a test reaches the database (pytest-django's own, and its live server).
_DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}
)


def uses_database(item: pytest.Item) -> bool:
    """The test reaches the database: it is marked `django_db` or asks, itself or through a fixture it uses,
    for one of pytest-django's database fixtures. Any other test is refused the database by pytest-django."""
    if item.get_closest_marker("django_db") is not None:
        return True
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL (`make test-pg`), the tests that never reach the database are left out: they ran, the
    same, in the SQLite suite (`make test`), and only what touches the database can differ between the two
    (pure rules, hypothesis properties, the permission table: about 1,500 tests, a minute of a worker)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    kept = [item for item in items if uses_database(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if not uses_database(item)])
        items[:] = kept


@pytest.fixture(autouse=True, scope="session")
def flush_past_append_only_triggers() -> Iterator[None]:
    """A transactional test (`django_db(transaction=True)`) ends with Django's flush, one TRUNCATE of every
    table, which the append-only tables refuse on PostgreSQL. The test database's superuser may switch
    triggers off for that one transaction (`session_replication_role = replica`); the application's role in
    production cannot (docs/deployment.md). SQLite's flush deletes rows, which its triggers refuse: the
    transactional tests run on PostgreSQL only."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self: DatabaseOperations, *args: Any, **kwargs: Any) -> list[str]:
        statements = truncate(self, *args, **kwargs)
        return ["SET LOCAL session_replication_role = replica;", *statements] if statements else []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def protocol_readings_cached(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test reads each protocol entry from the database once, as a request does
    (`protocols.selectors.readings_cached`): the factories that build a ready visit read some 260 entries
    through the services they call, half the time of the infusion tests when each was a query. A change of a
    protocol row empties the cache, as within a request. Tests of how entries are read are marked
    `protocol_reads_uncached`."""
    if request.node.get_closest_marker("protocol_reads_uncached") is not None:
        yield
        return
    from ketaclinic.protocols.selectors import readings_cached

    with readings_cached():
        yield


@pytest.fixture
def organisation(db: Any) -> Organisation:
    return Organisation.objects.create(name="Test Organisation")


@pytest.fixture
def clinic(organisation: Organisation) -> Clinic:
    from ketaclinic.protocols.services import load_protocol_defaults

    # Every clinic runs on the shipped protocol defaults until it edits them.
    load_protocol_defaults()
    return Clinic.objects.create(organisation=organisation, name="Main Street", code="main")


@pytest.fixture
def other_clinic(organisation: Organisation) -> Clinic:
    return Clinic.objects.create(organisation=organisation, name="Harbour", code="harb")


def make_user(role: Role | None, clinic: Clinic | None, username: str | None = None) -> User:
    name = username or (role.value if role else "outsider")
    user = User.objects.create_user(
        username=name,
        password=TEST_PASSWORD,
        role=role.value if role else "",
        first_name=name.title(),
        last_name="Tester",
    )
    if clinic is not None:
        user.clinics.add(clinic)
    return user


@pytest.fixture
def clinician(clinic: Clinic) -> User:
    return make_user(Role.CLINICIAN, clinic)


@pytest.fixture
def nurse(clinic: Clinic) -> User:
    return make_user(Role.NURSE, clinic)


@pytest.fixture
def front_desk(clinic: Clinic) -> User:
    return make_user(Role.FRONT_DESK, clinic)


@pytest.fixture
def billing_clerk(clinic: Clinic) -> User:
    return make_user(Role.BILLING_CLERK, clinic)


@pytest.fixture
def custodian(clinic: Clinic) -> User:
    return make_user(Role.CUSTODIAN, clinic)


@pytest.fixture
def clinic_admin(clinic: Clinic) -> User:
    return make_user(Role.CLINIC_ADMIN, clinic)


@pytest.fixture
def patient_user(clinic: Clinic) -> User:
    return make_user(Role.PATIENT, None, "patientuser")


@pytest.fixture
def guardian_user(clinic: Clinic) -> User:
    return make_user(Role.GUARDIAN, None, "guardianuser")


@pytest.fixture
def outsider(other_clinic: Clinic) -> User:
    """A clinician of another clinic: authenticated, but none of this clinic's patients are theirs."""
    return make_user(Role.CLINICIAN, other_clinic, "outsider")


@pytest.fixture
def monitor_gateway(clinic: Clinic, clinic_admin: User) -> User:
    """The clinic's bedside-monitor gateway: an integration account, made by the admin (staff page)."""
    from ketaclinic.accounts.services import create_staff_account

    return create_staff_account(
        by=clinic_admin,
        username="monitor-gateway",
        first_name="Chair monitors",
        last_name="Gateway",
        email="",
        role=Role.MONITOR_GATEWAY,
        clinics=[clinic],
    )


def own_api_token(user: User, name: str = "test") -> str:
    """The raw value of an API token `user` made for themselves (as on their account page, after their second
    factor; that path is tested in accounts/tests/test_api_tokens.py)."""
    from ketaclinic.accounts.models import ApiToken, new_token_value
    from ketaclinic.core.tokens import hash_token

    raw = new_token_value()
    ApiToken.objects.create(user=user, name=name, key_hash=hash_token(raw), prefix=raw[:10], created_by=user)
    return raw


ALL_ROLE_FIXTURES = [
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


def signed_in_client(user: User) -> Client:
    """A test client signed in as `user`, with the second factor passed where the role needs it."""
    from ketaclinic.accounts.middleware import LAST_SEEN_KEY, TIME_ZONE_KEY, UNITS_KEY
    from ketaclinic.accounts.selectors import display_time_zone_for, display_units_for
    from ketaclinic.core import clock

    client = Client()
    client.force_login(user)
    session = client.session
    # As after a first page: the session already knows the clinic's zone, so query counts compare like pages.
    session[TIME_ZONE_KEY] = display_time_zone_for(user)
    session[UNITS_KEY] = display_units_for(user)
    # ... and has noted the person's activity, dated a day ahead so that no page of a test writes it again
    # (a test's clock may be pinned or moved): the pages a test compares then take the same queries. The idle
    # timeout itself is tested with clients that sign in for real (accounts/tests/test_sign_in.py).
    session[LAST_SEEN_KEY] = (clock.now() + dt.timedelta(days=1)).isoformat()
    if user.requires_second_factor:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
        session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def verified_client(user: User) -> Client:
    """A client signed in as `user` who has passed the second factor, whatever the role (Django's admin asks
    everyone for it)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = signed_in_client(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def client_for() -> Any:
    return signed_in_client
