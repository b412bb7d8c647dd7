"""Services: loading the shipped defaults, changing and confirming values, with audit entries."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.core.inputs import REASON_MAX_CHARS, clean_reason
from ketaclinic.protocols.errors import (
    REASON_REQUIRED_MESSAGE,
    InvalidProtocolDefaults,
    InvalidProtocolValue,
    ProtocolErrorCode,
    ProtocolUnchanged,
)
from ketaclinic.protocols.models import ProtocolParameter, ProtocolValue
from ketaclinic.protocols.selectors import protocol_value
from ketaclinic.protocols.services import (
    DEFAULTS_PATH,
    change_protocol_value,
    confirm_protocol_value,
    load_protocol_defaults,
    read_protocol_defaults,
)
from ketaclinic.protocols.tests.conftest import snapshot
from ketaclinic.protocols.tests.shipped import SHIPPED_COUNT

pytestmark = pytest.mark.django_db


def _entry(**overrides: Any) -> dict[str, Any]:
    entry = {
        "key": "test_limit_min",
        "population": "all",
        "category": "recovery",
        "name": "Test limit",
        "description": "",
        "unit": "min",
        "value_kind": "integer",
        "value": "30",
        "source": "Test source",
        "verified": True,
    }
    entry.update(overrides)
    return entry


def _write(tmp_path: Path, entries: list[Any]) -> Path:
    path = tmp_path / "defaults.json"
    path.write_text(json.dumps({"format": 1, "parameters": entries}), encoding="utf-8")
    return path


# Loading the shipped defaults


def test_shipped_defaults_file_is_valid_and_holds_every_entry_once() -> None:
    core = read_protocol_defaults(DEFAULTS_PATH)
    # 66 shipped; 12 that nothing read were removed (issue 14); 13 plausible ranges moved in (issue 15)
    assert len(core) == 67
    everything = read_protocol_defaults()
    assert len({(default.key, default.population) for default in everything}) == len(everything)
    assert everything[: len(core)] == core


def test_a_key_listed_in_two_defaults_files_is_refused(tmp_path: Path) -> None:
    document = {"format": 1, "parameters": [_entry()]}
    main, extra = tmp_path / "protocol_defaults.json", tmp_path / "extra.json"
    main.write_text(json.dumps(document), encoding="utf-8")
    extra.write_text(json.dumps(document), encoding="utf-8")
    with (
        mock.patch("ketaclinic.protocols.services.DEFAULTS_PATH", main),
        pytest.raises(InvalidProtocolDefaults) as caught,
    ):
        read_protocol_defaults()
    assert caught.value.message == "protocol_defaults.json and extra.json lists test_limit_min (all) twice."


def test_shipped_defaults_include_the_consent_ages_the_patients_app_reads() -> None:
    defaults = {(default.key, default.population): default for default in read_protocol_defaults()}
    majority = defaults[("age_of_majority_years", "all")]
    assent = defaults[("assent_from_age_years", "all")]
    assert (majority.value, majority.value_kind, majority.unit, majority.verified) == (
        "18",
        "integer",
        "years",
        False,
    )
    assert majority.source == "US default age of majority; state law varies (unverified)."
    assert (assent.value, assent.value_kind, assent.unit, assent.verified) == ("7", "integer", "years", False)
    assert assent.source.startswith("AAP 'Informed consent in decision-making in pediatric practice'")


def test_shipped_defaults_flag_values_protocol_md_marks_unverified() -> None:
    defaults = {(default.key, default.population): default for default in read_protocol_defaults()}
    for key in (
        "predose_systolic_max_mmhg",
        "predose_diastolic_max_mmhg",
        "pause_systolic_above_mmhg",
        "pause_diastolic_above_mmhg",
        "pause_heart_rate_above_bpm",
        "spo2_stop_below_percent",
        "vial_strengths_mg_per_ml",
        "dose_hard_stop_mg_per_kg",
    ):
        assert defaults[(key, "all")].verified is False, key
    for key in ("dose_standard_mg_per_kg", "infusion_duration_min", "cs_theft_notice_business_days"):
        assert defaults[(key, "all")].verified is True, key


def test_loads_every_default_as_version_1_without_an_author(django_assert_max_num_queries: Any) -> None:
    created = load_protocol_defaults()
    assert created == SHIPPED_COUNT
    assert ProtocolParameter.objects.count() == SHIPPED_COUNT
    assert set(ProtocolValue.objects.values_list("version", flat=True)) == {1}
    assert not ProtocolValue.objects.filter(changed_by__isnull=False).exists()
    reading = protocol_value("dose_standard_mg_per_kg")
    assert (reading.value, reading.unit, reading.version, reading.verified) == (
        Decimal("0.5"),
        "mg/kg",
        1,
        True,
    )
    assert protocol_value("age_of_majority_years").value == 18
    assert protocol_value("assent_from_age_years").value == 7
    assert protocol_value("vial_strengths_mg_per_ml").value == (Decimal(10), Decimal(50), Decimal(100))


def test_loading_twice_adds_nothing_the_second_time() -> None:
    assert load_protocol_defaults() == SHIPPED_COUNT
    rows = snapshot()
    assert load_protocol_defaults() == 0
    assert snapshot() == rows
    assert AuditEvent.objects.filter(object_type="protocol_parameter", action=Action.CREATE).count() == 1


def test_loading_again_never_overwrites_a_clinic_edit(clinician: User) -> None:
    # The clinic fixture has loaded the defaults already.
    parameter = ProtocolParameter.objects.get(key="age_of_majority_years", population="all")
    change_protocol_value(
        by=clinician, parameter=parameter, value="19", source="State law", reason="Alabama", verified=True
    )
    assert load_protocol_defaults() == 0
    reading = protocol_value("age_of_majority_years")
    assert (reading.value, reading.version, reading.verified, reading.source) == (19, 2, True, "State law")


def test_loading_adds_only_missing_entries(tmp_path: Path) -> None:
    path = _write(tmp_path, [_entry()])
    assert load_protocol_defaults(path=path) == 1
    path = _write(tmp_path, [_entry(value="45"), _entry(key="test_other_min", value="10")])
    assert load_protocol_defaults(path=path) == 1
    assert protocol_value("test_limit_min").value == 30
    assert protocol_value("test_other_min").value == 10


def test_loading_audits_what_it_created() -> None:
    load_protocol_defaults()
    event = AuditEvent.objects.get(object_type="protocol_parameter")
    assert event.action == Action.CREATE
    assert event.actor is None
    assert event.patient_id is None
    assert event.summary.startswith(f"Loaded {SHIPPED_COUNT} protocol defaults: dose_standard_mg_per_kg, ")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_entry(value="thirty"), "entry 0 (test_limit_min): 'thirty' is not a whole number."),
        (_entry(population="teen"), "entry 0 (test_limit_min): population 'teen' is not one of"),
        (_entry(category="misc"), "entry 0 (test_limit_min): category 'misc' is not one of"),
        (_entry(source=" "), "entry 0 (test_limit_min): Give the source of this value"),
        (_entry(verified="yes"), "entry 0 (test_limit_min): 'verified' is true or false."),
        (_entry(key="Bad Key"), "entry 0 (Bad Key): a key is lower-case letters, digits and underscores."),
        ({"key": "test_limit_min"}, "entry 0 (test_limit_min) lacks population, category"),
    ],
)
def test_refuses_a_malformed_defaults_file_and_writes_nothing(
    tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, [_entry(key="test_good_min"), entry])
    message = message.replace("entry 0", "entry 1")
    with pytest.raises(InvalidProtocolDefaults) as caught:
        load_protocol_defaults(path=path)
    assert caught.value.message.startswith(message)
    assert ProtocolParameter.objects.count() == 0
    assert ProtocolValue.objects.count() == 0


def test_refuses_a_defaults_file_listing_an_entry_twice(tmp_path: Path) -> None:
    path = _write(tmp_path, [_entry(), _entry(value="40")])
    with pytest.raises(InvalidProtocolDefaults) as caught:
        load_protocol_defaults(path=path)
    assert caught.value.message == "defaults.json lists test_limit_min (all) twice."
    assert ProtocolParameter.objects.count() == 0


def test_a_person_loading_defaults_needs_change_permission(nurse: User, tmp_path: Path) -> None:
    path = _write(tmp_path, [_entry()])
    with pytest.raises(PermissionDenied):
        load_protocol_defaults(by=nurse, path=path)
    assert not ProtocolParameter.objects.filter(key="test_limit_min").exists()


def test_shipped_defaults_path_is_inside_the_app() -> None:
    assert DEFAULTS_PATH.parts[-3:] == ("protocols", "defaults", "protocol_defaults.json")


# Changing a value


def test_change_adds_the_next_version_pointing_at_the_previous(
    clinician: User, parameter: ProtocolParameter
) -> None:
    first = parameter.versions.get()
    second = change_protocol_value(
        by=clinician, parameter=parameter, value="0.6", source="Trial X", reason="New trial", verified=True
    )
    third = change_protocol_value(
        by=clinician, parameter=parameter, value="0.55", source="Trial Y", reason="Revised", verified=False
    )
    assert (second.version, second.corrects_id, second.value, second.changed_by) == (
        2,
        first.pk,
        "0.6",
        clinician,
    )
    assert (third.version, third.corrects_id, third.reason, third.verified) == (
        3,
        second.pk,
        "Revised",
        False,
    )
    assert list(parameter.versions.order_by("version").values_list("version", "value")) == [
        (1, "0.5"),
        (2, "0.6"),
        (3, "0.55"),
    ]
    assert protocol_value(parameter.key).value == Decimal("0.55")


def test_change_stores_the_canonical_value_and_trimmed_texts(
    clinic_admin: User, parameter: ProtocolParameter
) -> None:
    new = change_protocol_value(
        by=clinic_admin,
        parameter=parameter,
        value=" 00.60 ",
        source=" Label ",
        reason=" Policy ",
        verified=False,
    )
    assert (new.value, new.source, new.reason) == ("0.60", "Label", "Policy")


@pytest.mark.parametrize("reason", ["", "   "])
def test_change_requires_a_reason_and_writes_nothing_without_one(
    clinician: User, parameter: ProtocolParameter, reason: str
) -> None:
    rows = snapshot()
    events = AuditEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        change_protocol_value(
            by=clinician, parameter=parameter, value="0.6", source="Trial", reason=reason, verified=True
        )
    assert (caught.value.code, caught.value.field) == (ProtocolErrorCode.REASON_REQUIRED, "reason")
    assert snapshot() == rows
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("value", ["abc", "-0.5", "0,6", ""])
def test_change_refuses_a_value_that_does_not_fit_the_kind_and_writes_nothing(
    clinician: User, parameter: ProtocolParameter, value: str
) -> None:
    rows = snapshot()
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidProtocolValue) as caught:
        change_protocol_value(
            by=clinician, parameter=parameter, value=value, source="Trial", reason="Because", verified=True
        )
    assert (caught.value.code, caught.value.field) == (ProtocolErrorCode.INVALID_VALUE, "value")
    assert snapshot() == rows
    assert AuditEvent.objects.count() == events


def test_change_requires_a_source(clinician: User, parameter: ProtocolParameter) -> None:
    rows = snapshot()
    with pytest.raises(InvalidProtocolValue) as caught:
        change_protocol_value(
            by=clinician, parameter=parameter, value="0.6", source=" ", reason="x", verified=True
        )
    assert caught.value.field == "source"
    assert snapshot() == rows


def test_change_refuses_to_repeat_the_current_version(clinician: User, parameter: ProtocolParameter) -> None:
    rows = snapshot()
    with pytest.raises(ProtocolUnchanged) as caught:
        change_protocol_value(
            by=clinician,
            parameter=parameter,
            value="0.50",
            source="Test source 2026",
            reason="x",
            verified=False,
        )
    assert caught.value.code == ProtocolErrorCode.UNCHANGED
    assert snapshot() == rows


@pytest.mark.parametrize(
    "role", ["nurse", "custodian", "front_desk", "billing_clerk", "patient_user", "guardian_user"]
)
def test_only_clinicians_and_clinic_admins_may_change(
    request: pytest.FixtureRequest, parameter: ProtocolParameter, role: str
) -> None:
    user = request.getfixturevalue(role)
    rows = snapshot()
    with pytest.raises(PermissionDenied):
        change_protocol_value(
            by=user, parameter=parameter, value="0.6", source="s", reason="r", verified=True
        )
    assert snapshot() == rows


def test_change_writes_an_audit_entry_without_a_patient(
    clinician: User, parameter: ProtocolParameter
) -> None:
    change_protocol_value(
        by=clinician, parameter=parameter, value="0.6", source="Trial X", reason="New trial", verified=True
    )
    event = AuditEvent.objects.filter(object_type="protocol_parameter").latest("id")
    assert event.action == Action.UPDATE
    assert event.actor == clinician
    assert event.actor_role == "clinician"
    assert event.object_id == str(parameter.pk)
    assert event.patient_id is None
    assert event.summary == (
        "test_dose_mg_per_kg (all) v2: 0.5 mg/kg -> 0.6 mg/kg, verified. Reason: New trial"
    )


# Confirming a value


def test_confirm_adds_a_verified_version_with_the_same_value_and_source(
    clinician: User, parameter: ProtocolParameter
) -> None:
    confirmed = confirm_protocol_value(by=clinician, parameter=parameter, reason="Checked the label")
    assert (confirmed.version, confirmed.value, confirmed.source, confirmed.verified) == (
        2,
        "0.5",
        "Test source 2026",
        True,
    )
    assert confirmed.corrects == parameter.versions.get(version=1)
    assert protocol_value(parameter.key).verified is True
    event = AuditEvent.objects.filter(object_type="protocol_parameter").latest("id")
    assert event.summary == "test_dose_mg_per_kg (all) v2: confirmed 0.5 mg/kg. Reason: Checked the label"


def test_confirm_requires_a_reason(clinician: User, parameter: ProtocolParameter) -> None:
    rows = snapshot()
    with pytest.raises(DomainError) as caught:
        confirm_protocol_value(by=clinician, parameter=parameter, reason="")
    assert caught.value.field == "reason"
    assert snapshot() == rows


def test_a_nurse_cannot_confirm(nurse: User, parameter: ProtocolParameter) -> None:
    rows = snapshot()
    with pytest.raises(PermissionDenied):
        confirm_protocol_value(by=nurse, parameter=parameter, reason="Looks right")
    assert snapshot() == rows


def test_versions_stay_distinct_when_edits_follow_a_stale_read(
    clinician: User, parameter: ProtocolParameter
) -> None:
    # Two people open the page at version 1; both save. The second save must become version 3, not collide.
    stale_copy = ProtocolParameter.objects.get(pk=parameter.pk)
    change_protocol_value(
        by=clinician, parameter=parameter, value="0.6", source="A", reason="a", verified=True
    )
    later = change_protocol_value(
        by=clinician, parameter=stale_copy, value="0.7", source="B", reason="b", verified=True
    )
    assert later.version == 3


def test_a_protocol_change_reason_is_the_kernels_reason_rule() -> None:
    # One rule for every reason (core.inputs.clean_reason), with the protocol page's own wording.
    assert clean_reason("  2026 review  ", what=REASON_REQUIRED_MESSAGE) == "2026 review"
    with pytest.raises(DomainError) as caught:
        clean_reason("   ", what=REASON_REQUIRED_MESSAGE)
    assert (caught.value.code, caught.value.field, caught.value.message) == (
        "reason_required",
        "reason",
        "Say why: every protocol change records a reason.",
    )
    with pytest.raises(DomainError) as too_long:
        clean_reason("x" * (REASON_MAX_CHARS + 1))
    assert too_long.value.field == "reason"
