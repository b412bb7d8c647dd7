"""Prescribing, overriding, co-signing, superseding and titrating, through the services."""

import datetime as dt
from decimal import Decimal as D
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.db import is_append_only_refusal
from ketaclinic.core.errors import DomainError, ErrorKind, NotFound, PermissionDenied
from ketaclinic.dosing import selectors, services
from ketaclinic.dosing.errors import DosingError, HardStopsNotOverridden, InvalidDoseInput
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderCosignature, OrderStatus
from ketaclinic.dosing.rules import EligibilityStatus, TitrationStep
from ketaclinic.dosing.tests.conftest import (
    ELIGIBILITY_REASON,
    days_later,
    draft,
    prescribe,
    with_signed_plan,
)
from ketaclinic.patients.tests.factories import register_adult, register_child
from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.services import change_protocol_value

pytestmark = pytest.mark.django_db


def test_eligibility_is_not_recorded_until_the_screening_app_is_wired_in(patient) -> None:
    assert selectors.eligibility_status_for(patient=patient) is EligibilityStatus.NONE_RECORDED


def test_refuses_an_order_whose_hard_stop_is_not_overridden(clinician, patient) -> None:
    with pytest.raises(HardStopsNotOverridden) as refused:
        services.prescribe_dose_order(by=clinician, patient=patient, draft=draft(patient))
    assert refused.value.codes == ("no_eligibility_decision",)
    assert refused.value.kind == ErrorKind.CONFLICT
    assert refused.value.message == (
        "Hard stops must each be overridden, with a reason, by a clinician who may override: "
        "No eligibility decision is recorded for this patient."
    )
    assert DoseOrder.objects.count() == 0


def test_blank_override_reason_does_not_count(clinician, patient) -> None:
    with pytest.raises(HardStopsNotOverridden):
        services.prescribe_dose_order(
            by=clinician, patient=patient, draft=draft(patient), overrides={"no_eligibility_decision": "  "}
        )
    assert DoseOrder.objects.count() == 0


def test_prescribes_the_worked_example_and_stores_inputs_outputs_and_protocol(clinician, patient) -> None:
    order = prescribe(clinician, patient, note="Usual chair.")
    assert (order.dosing_weight_kg, order.weight_basis, order.body_mass_index_kg_per_m2) == (
        D(80),
        "actual",
        D("27.7"),
    )
    assert (order.dose_mg, order.drug_volume_ml, order.total_volume_ml) == (D("40.0"), D("0.80"), D("100.80"))
    assert (order.final_concentration_mg_per_ml, order.rate_ml_per_h, order.rate_mg_per_min) == (
        D("0.397"),
        D("151.2"),
        D("1.00"),
    )
    assert (order.pk_model_key, order.predicted_peak_ng_per_ml, order.predicted_peak_at_min) == (
        "domino",
        D("240.3"),
        D("40.0"),
    )
    assert (order.population, order.sex_for_ideal_weight, order.drug, order.route) == (
        "adult",
        "female",
        "ketamine",
        "iv",
    )
    assert order.findings == [
        {
            "code": "no_eligibility_decision",
            "severity": "hard_stop",
            "message": "No eligibility decision is recorded for this patient.",
        }
    ]
    snapshot = {entry["key"]: entry for entry in order.protocol_snapshot}
    assert snapshot["dose_hard_stop_mg_per_kg"]["value"] == "1.0"
    assert snapshot["dose_hard_stop_mg_per_kg"]["version"] == 1
    assert snapshot["pk_model"]["value"] == "domino"
    assert len(order.protocol_snapshot) == 31
    override = HardStopOverride.objects.get(order=order)
    assert (override.code, override.reason, override.overridden_by) == (
        "no_eligibility_decision",
        ELIGIBILITY_REASON,
        clinician,
    )
    assert selectors.order_status(order) is OrderStatus.AWAITING_COSIGNATURE
    audited = AuditEvent.objects.filter(
        patient_id=patient.pk,
        action="create",
        actor=clinician,
        object_type__in=["dose_order", "hard_stop_override"],
    )
    assert list(audited.order_by("id").values_list("object_type", "summary")) == [
        ("dose_order", "prescribed 40 mg (0.5 mg/kg) over 40 min"),
        ("hard_stop_override", "overrode no_eligibility_decision"),
    ]


def test_nurse_cannot_prescribe(nurse, patient) -> None:
    with pytest.raises(PermissionDenied):
        prescribe(nurse, patient)


def test_clinician_of_another_clinic_cannot_find_the_patient(outsider, patient) -> None:
    with pytest.raises(NotFound):
        prescribe(outsider, patient)


def test_dose_above_hard_stop_needs_its_own_override(clinician, patient) -> None:
    with pytest.raises(HardStopsNotOverridden) as refused:
        prescribe(clinician, patient, dose_mg_per_kg=D("1.2"), weight_kg=D(70))
    assert refused.value.codes == ("dose_above_hard_stop",)
    order = prescribe(
        clinician,
        patient,
        dose_mg_per_kg=D("1.2"),
        weight_kg=D(70),
        overrides={"dose_above_hard_stop": "Research protocol, ethics approval 2026-14."},
    )
    assert order.dose_mg == D("84.0")
    assert sorted(HardStopOverride.objects.filter(order=order).values_list("code", flat=True)) == [
        "dose_above_hard_stop",
        "no_eligibility_decision",
    ]
    assert [f["code"] for f in order.findings] == [
        "no_eligibility_decision",
        "dose_above_hard_stop",
        "predicted_peak_above_ceiling",
    ]


def test_weight_measured_in_the_future_is_refused(clinician, patient) -> None:
    with pytest.raises(InvalidDoseInput) as refused:
        prescribe(clinician, patient, weight_measured_on=dt.date.today() + dt.timedelta(days=3))
    assert refused.value.field == "weight_measured_on"


def test_obese_patient_is_dosed_on_ideal_body_weight(clinician, patient) -> None:
    order = prescribe(clinician, patient, weight_kg=D(110), height_cm=D(165))
    # BMI 40.4; Devine (female) at 165 cm = 45.5 + 2.3 x 4.96 = 56.9 kg.
    assert (order.weight_basis, order.body_mass_index_kg_per_m2, order.dosing_weight_kg, order.dose_mg) == (
        "ideal",
        D("40.4"),
        D("56.9"),
        D("28.5"),
    )


def test_adolescent_is_dosed_with_the_child_protocol_and_the_paediatric_model(
    clinician, front_desk, clinic
) -> None:
    teen = with_signed_plan(clinician, register_child(front_desk, clinic, age=15))
    with pytest.raises(HardStopsNotOverridden) as refused:
        prescribe(clinician, teen, weight_kg=D(55), height_cm=D(165), dose_mg_per_kg=D("0.8"))
    assert refused.value.codes == ("dose_above_hard_stop",)
    order = prescribe(clinician, teen, weight_kg=D(55), height_cm=D(165))
    assert (order.population, order.pk_model_key) == ("child", "herd")
    codes = [f["code"] for f in order.findings]
    assert codes == ["no_eligibility_decision", "pk_model_outside_fitted_range"]


def test_older_adult_above_their_usual_range_gets_a_warning(clinician, front_desk, clinic) -> None:
    elder = with_signed_plan(
        clinician,
        register_adult(front_desk, clinic, legal_given_name="Walter", date_of_birth=dt.date(1946, 1, 5)),
    )
    order = prescribe(clinician, elder, weight_kg=D(70), dose_mg_per_kg=D("0.6"))
    assert order.population == "older_adult"
    assert [f["code"] for f in order.findings] == [
        "no_eligibility_decision",
        "dose_above_usual_range",
        "predicted_peak_above_ceiling",
    ]
    assert order.findings[1]["message"] == "0.6 mg/kg is above the usual range (0.1 to 0.5 mg/kg)."


def test_calculate_saves_nothing_and_is_audited(clinician, patient) -> None:
    calculation = services.calculate_order(by=clinician, patient=patient, draft=draft(patient))
    assert calculation.computation.rate_ml_per_h == D("151.2")
    assert [f.code.value for f in calculation.hard_stops] == ["no_eligibility_decision"]
    assert DoseOrder.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="dose_calculation", patient_id=patient.pk).count() == 1


def test_nurse_cannot_use_the_calculator(nurse, patient) -> None:
    with pytest.raises(PermissionDenied):
        services.calculate_order(by=nurse, patient=patient, draft=draft(patient))


def test_nurse_cosigns_with_a_rate_within_one_step(nurse, order) -> None:
    cosignature = services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.1"))
    assert (cosignature.cosigned_by, cosignature.entered_rate_ml_per_h) == (nurse, D("151.1"))
    order = selectors.orders_queryset().get(pk=order.pk)
    assert selectors.order_status(order) is OrderStatus.READY
    assert AuditEvent.objects.filter(object_type="dose_order_cosignature", actor=nurse).count() == 1


def test_cosign_refuses_a_rate_that_does_not_match(nurse, order) -> None:
    with pytest.raises(DosingError) as refused:
        services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("150.0"))
    assert refused.value.code == "pump_rate_mismatch"
    assert "151.2" not in refused.value.message
    assert OrderCosignature.objects.count() == 0


def test_prescriber_cannot_cosign_their_own_order(clinician, order) -> None:
    with pytest.raises(DosingError) as refused:
        services.cosign_dose_order(by=clinician, order=order, entered_rate_ml_per_h=D("151.2"))
    assert refused.value.code == "cosigner_is_prescriber"


def test_front_desk_cannot_cosign(front_desk, order) -> None:
    with pytest.raises(PermissionDenied):
        services.cosign_dose_order(by=front_desk, order=order, entered_rate_ml_per_h=D("151.2"))


def test_an_order_is_cosigned_once(nurse, order, clinic) -> None:
    from conftest import make_user
    from ketaclinic.accounts.roles import Role

    services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
    second = make_user(Role.NURSE, clinic, "nurse2")
    with pytest.raises(DosingError) as refused:
        services.cosign_dose_order(by=second, order=order, entered_rate_ml_per_h=D("151.2"))
    assert refused.value.code == "already_cosigned"


def test_a_hard_stop_that_appears_after_prescribing_blocks_the_cosignature_until_overridden(
    clinician, nurse, order
) -> None:
    with days_later(1):
        with pytest.raises(HardStopsNotOverridden) as refused:
            services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
        assert refused.value.codes == ("weight_stale",)
        with pytest.raises(PermissionDenied):
            services.override_hard_stop(
                by=nurse, order=order, code="weight_stale", reason="Weighed yesterday."
            )
        services.override_hard_stop(
            by=clinician, order=order, code="weight_stale", reason="Weighed yesterday evening; stable."
        )
        services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
    assert list(HardStopOverride.objects.filter(order=order).values_list("code", flat=True)) == [
        "no_eligibility_decision",
        "weight_stale",
    ]


def test_override_of_a_hard_stop_the_order_does_not_have_is_refused(clinician, order) -> None:
    with pytest.raises(DosingError) as refused:
        services.override_hard_stop(by=clinician, order=order, code="weight_stale", reason="Because.")
    assert refused.value.code == "override_not_needed"
    with pytest.raises(DosingError) as twice:
        services.override_hard_stop(
            by=clinician, order=order, code="no_eligibility_decision", reason="Again."
        )
    assert twice.value.code == "already_overridden"


def test_a_lowered_protocol_limit_applies_at_cosignature(clinician, nurse, order) -> None:
    parameter = ProtocolParameter.objects.get(key="dose_hard_stop_mg_per_kg", population="all")
    change_protocol_value(
        by=clinician,
        parameter=parameter,
        value="0.4",
        source="Clinic policy 2026",
        reason="Audit",
        verified=True,
    )
    with pytest.raises(HardStopsNotOverridden) as refused:
        services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
    assert refused.value.codes == ("dose_above_hard_stop",)


def test_supersede_makes_a_new_order_and_marks_the_old_one(clinician, nurse, order, patient) -> None:
    new = services.supersede_dose_order(
        by=clinician,
        order=order,
        draft=draft(patient, dose_mg_per_kg=D("0.6")),
        reason="Titrated up: no response after two infusions.",
        overrides={"no_eligibility_decision": ELIGIBILITY_REASON},
    )
    assert (new.supersedes, new.supersede_reason, new.dose_mg) == (
        order,
        "Titrated up: no response after two infusions.",
        D("48.0"),
    )
    old = selectors.orders_queryset().get(pk=order.pk)
    assert selectors.order_status(old) is OrderStatus.SUPERSEDED
    with pytest.raises(DosingError) as refused:
        services.cosign_dose_order(by=nurse, order=old, entered_rate_ml_per_h=D("151.2"))
    assert refused.value.code == "order_superseded"
    with pytest.raises(DosingError) as again:
        services.supersede_dose_order(
            by=clinician, order=old, draft=draft(patient), reason="Again.", overrides={}
        )
    assert again.value.code == "order_superseded"


def test_supersede_needs_a_reason(clinician, order, patient) -> None:
    with pytest.raises(DomainError) as refused:
        services.supersede_dose_order(by=clinician, order=order, draft=draft(patient), reason=" ")
    assert (refused.value.code, refused.value.field) == ("reason_required", "supersede_reason")
    assert DoseOrder.objects.count() == 1


def test_ready_order_is_the_newest_cosigned_one_not_superseded(clinician, nurse, order, patient) -> None:
    assert selectors.ready_order_for(viewer=nurse, patient=patient) is None
    services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
    assert selectors.ready_order_for(viewer=nurse, patient=patient) == order
    services.supersede_dose_order(
        by=clinician,
        order=order,
        draft=draft(patient, duration_min=50),
        reason="Slower: dizzy last time.",
        overrides={"no_eligibility_decision": ELIGIBILITY_REASON},
    )
    assert selectors.ready_order_for(viewer=nurse, patient=patient) is None


def test_propose_titration_steps_up_from_the_latest_order(clinician, order, patient) -> None:
    previous, proposal = services.propose_titration(
        by=clinician, patient=patient, response_reduction_percent=D(20), tolerated=True
    )
    assert previous == order
    assert (proposal.step, proposal.dose_mg_per_kg) == (TitrationStep.INCREASE, D("0.6"))
    assert AuditEvent.objects.filter(object_type="dose_titration", patient_id=patient.pk).count() == 1


def test_propose_titration_needs_a_previous_order(clinician, patient) -> None:
    with pytest.raises(DosingError) as refused:
        services.propose_titration(
            by=clinician, patient=patient, response_reduction_percent=None, tolerated=True
        )
    assert refused.value.code == "no_previous_order"


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("dosing_doseorder", "dose_mg"),
        ("dosing_hardstopoverride", "reason"),
        ("dosing_ordercosignature", "entered_rate_ml_per_h"),
    ],
)
def test_the_database_refuses_update_and_delete(nurse, order, table, column) -> None:
    services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
    for statement in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
        assert is_append_only_refusal(refusal.value)
    assert DoseOrder.objects.get(pk=order.pk).dose_mg == D("40.0")
    assert OrderCosignature.objects.count() == 1


def test_once_eligibility_is_recorded_an_eligible_patient_needs_no_override(clinician, patient) -> None:
    with mock.patch(
        "ketaclinic.dosing.selectors.eligibility_status_for", return_value=EligibilityStatus.ELIGIBLE
    ):
        order = services.prescribe_dose_order(by=clinician, patient=patient, draft=draft(patient))
    assert order.findings == []
    assert HardStopOverride.objects.count() == 0


def test_not_eligible_is_a_hard_stop_and_conditions_are_a_warning(clinician, patient) -> None:
    with (
        mock.patch(
            "ketaclinic.dosing.selectors.eligibility_status_for", return_value=EligibilityStatus.NOT_ELIGIBLE
        ),
        pytest.raises(HardStopsNotOverridden) as refused,
    ):
        services.prescribe_dose_order(by=clinician, patient=patient, draft=draft(patient))
    assert refused.value.codes == ("not_eligible",)
    with mock.patch(
        "ketaclinic.dosing.selectors.eligibility_status_for",
        return_value=EligibilityStatus.ELIGIBLE_WITH_CONDITIONS,
    ):
        order = services.prescribe_dose_order(by=clinician, patient=patient, draft=draft(patient))
    assert [(f["code"], f["severity"]) for f in order.findings] == [("eligible_with_conditions", "warning")]


def test_an_order_without_a_signed_plan_is_a_hard_stop_a_clinician_may_override(
    clinician, front_desk, clinic
) -> None:
    planless = register_adult(front_desk, clinic, legal_given_name="Nomi")
    with pytest.raises(HardStopsNotOverridden) as refused:
        prescribe(clinician, planless)
    assert refused.value.codes == ("no_signed_plan",)
    order = prescribe(
        clinician, planless, overrides={"no_signed_plan": "Single rescue infusion; plan follows."}
    )
    assert HardStopOverride.objects.get(order=order, code="no_signed_plan").reason == (
        "Single rescue infusion; plan follows."
    )


def test_a_ketamine_allergy_is_a_hard_stop_a_clinician_may_override_with_a_reason(clinician, patient) -> None:
    from ketaclinic.patients.services import AllergyDetails, record_allergy

    record_allergy(
        by=clinician,
        patient=patient,
        details=AllergyDetails(substance_code="ketamine", reaction="urticaria", reaction_severity="mild"),
    )
    with pytest.raises(HardStopsNotOverridden) as refused:
        prescribe(clinician, patient)
    assert refused.value.codes == ("ketamine_allergy",)
    assert DoseOrder.objects.count() == 0
    order = prescribe(clinician, patient, overrides={"ketamine_allergy": "Urticaria only; premedicated."})
    assert HardStopOverride.objects.get(order=order, code="ketamine_allergy").reason == (
        "Urticaria only; premedicated."
    )
    assert [f["message"] for f in order.findings if f["code"] == "ketamine_allergy"] == [
        "The patient's record lists an allergy that rules out ketamine: Ketamine (urticaria)."
    ]


def test_an_allergy_to_another_drug_does_not_stop_a_ketamine_order(clinician, patient) -> None:
    from ketaclinic.patients.services import AllergyDetails, record_allergy

    record_allergy(by=clinician, patient=patient, details=AllergyDetails(substance_code="ondansetron"))
    order = prescribe(clinician, patient)
    assert "ketamine_allergy" not in [f["code"] for f in order.findings]
