"""Side effects, the serious-event review and rescue drugs, through the services."""

from decimal import Decimal as D
from typing import Any

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.infusions import services
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import DrugGiven, InfusionVisit, SeriousEventReview, SideEffect
from ketaclinic.infusions.selectors.care import serious_events_awaiting_review
from ketaclinic.infusions.tests.factories_care import *  # noqa: F403  (the fixtures)
from ketaclinic.infusions.tests.factories_care import midazolam_vial
from ketaclinic.inventory.models import LedgerEntry, Vial
from ketaclinic.inventory.tests.factories import receive, trusted

pytestmark = pytest.mark.django_db


def side_effect(by: Any, visit: InfusionVisit, **overrides: Any) -> SideEffect:
    values: dict[str, Any] = {
        "kind": "nausea",
        "severity": "mild",
        "grade": 1,
        "serious": None,
        "description": "",
        "management": "Reassurance.",
    }
    values.update(overrides)
    return services.record_side_effect(by=by, visit=visit, **values)


def test_records_a_side_effect_serious_as_the_protocol_grades_it(nurse, running_visit) -> None:
    mild = side_effect(nurse, running_visit)
    severe = side_effect(nurse, running_visit, kind="hypertension", severity="severe", grade=3)
    assert (mild.kind, mild.grade, mild.serious) == ("nausea", 1, False)
    assert (severe.kind, severe.grade, severe.serious) == ("hypertension", 3, True)
    assert AuditEvent.objects.filter(object_type="infusion_side_effect", actor=nurse).count() == 2


def test_staff_may_flag_a_lower_grade_serious_by_hand(nurse, running_visit) -> None:
    effect = side_effect(nurse, running_visit, grade=2, serious=True)
    assert effect.serious is True


def test_refuses_marking_a_serious_grade_not_serious(nurse, running_visit) -> None:
    with pytest.raises(InfusionRuleError) as refusal:
        side_effect(nurse, running_visit, grade=3, serious=False)
    assert (refusal.value.field, refusal.value.message) == (
        "serious",
        "The protocol counts grade 3 and above as serious: a grade 3 event cannot be marked not serious.",
    )
    assert SideEffect.objects.count() == 0


def test_refuses_other_without_a_description(nurse, running_visit) -> None:
    with pytest.raises(InfusionRuleError) as refusal:
        side_effect(nurse, running_visit, kind="other")
    assert refusal.value.field == "description"
    assert SideEffect.objects.count() == 0


@pytest.mark.parametrize(("field", "value"), [("kind", "hiccups"), ("severity", "awful"), ("grade", 7)])
def test_refuses_values_outside_the_choices(nurse, running_visit, field, value) -> None:
    with pytest.raises(InfusionRuleError) as refusal:
        side_effect(nurse, running_visit, **{field: value})
    assert refusal.value.field == field
    assert SideEffect.objects.count() == 0


def test_front_desk_cannot_record_a_side_effect(front_desk, running_visit) -> None:
    with pytest.raises(PermissionDenied):
        side_effect(front_desk, running_visit)
    assert SideEffect.objects.count() == 0


def test_a_cadss_id_must_be_a_dissociation_rating_of_this_patient(nurse, running_visit) -> None:
    with pytest.raises(InfusionRuleError) as wrong_kind:
        side_effect(nurse, running_visit, cadss_administration_id=1)
    with pytest.raises(InfusionRuleError) as missing:
        side_effect(nurse, running_visit, kind="dissociation", cadss_administration_id=999)
    assert (wrong_kind.value.field, missing.value.field) == (
        "cadss_administration_id",
        "cadss_administration_id",
    )
    assert SideEffect.objects.count() == 0


def test_a_serious_event_waits_for_review_until_a_clinician_reviews_it(
    nurse, clinician, running_visit
) -> None:
    effect = side_effect(nurse, running_visit, kind="emergence_reaction", severity="severe", grade=3)
    assert list(serious_events_awaiting_review(viewer=clinician)) == [effect]
    review = services.review_serious_event(
        by=clinician, side_effect=effect, outcome="Settled with midazolam."
    )
    assert (review.outcome, review.reviewed_by) == ("Settled with midazolam.", clinician)
    assert list(serious_events_awaiting_review(viewer=clinician)) == []


def test_a_review_is_refused_to_a_nurse_and_given_once(nurse, clinician, running_visit) -> None:
    effect = side_effect(nurse, running_visit, grade=4, severity="severe")
    with pytest.raises(PermissionDenied):
        services.review_serious_event(by=nurse, side_effect=effect, outcome="Seen.")
    assert SeriousEventReview.objects.count() == 0
    services.review_serious_event(by=clinician, side_effect=effect, outcome="Seen.")
    with pytest.raises(InfusionConflict):
        services.review_serious_event(by=clinician, side_effect=effect, outcome="Again.")
    assert SeriousEventReview.objects.count() == 1


def test_a_non_serious_event_is_not_reviewed(nurse, clinician, running_visit) -> None:
    effect = side_effect(nurse, running_visit)
    with pytest.raises(InfusionRuleError):
        services.review_serious_event(by=clinician, side_effect=effect, outcome="Seen.")
    assert SeriousEventReview.objects.count() == 0


def test_gives_a_usual_dose_without_findings(nurse, running_visit) -> None:
    effect = side_effect(nurse, running_visit)
    given = services.give_drug(
        by=nurse, visit=running_visit, drug="ondansetron", route="iv", dose_mg=D(4), side_effect=effect
    )
    assert (given.drug, given.route, given.dose_mg, given.findings, given.side_effect) == (
        "ondansetron",
        "iv",
        D("4.000"),
        [],
        effect,
    )
    assert (given.ledger_draw_entry_id, given.override_reason) == (None, "")


def test_refuses_a_dose_above_the_usual_maximum_without_a_reason(nurse, running_visit) -> None:
    with pytest.raises(InfusionRuleError) as refusal:
        services.give_drug(by=nurse, visit=running_visit, drug="labetalol", route="iv", dose_mg=D(40))
    assert refusal.value.code == InfusionErrorCode.RESCUE_DOSE_HARD_STOP
    assert refusal.value.message == (
        "40 mg of Labetalol is above the protocol's usual dose of 5-20 mg. "
        "A clinician may give it with a recorded reason."
    )
    assert DrugGiven.objects.count() == 0


def test_a_nurse_cannot_override_a_hard_stop(nurse, running_visit) -> None:
    with pytest.raises(PermissionDenied):
        services.give_drug(
            by=nurse,
            visit=running_visit,
            drug="labetalol",
            route="iv",
            dose_mg=D(40),
            override_reason="BP 230.",
        )
    assert DrugGiven.objects.count() == 0


def test_a_clinician_overrides_a_hard_stop_with_a_reason(clinician, running_visit) -> None:
    given = services.give_drug(
        by=clinician,
        visit=running_visit,
        drug="ondansetron",
        route="im",
        dose_mg=D(4),
        override_reason="No line.",
    )
    assert (given.override_reason, given.overridden_by) == ("No line.", clinician)
    assert [(f["code"], f["is_hard_stop"], f["override_reason"]) for f in given.findings] == [
        ("rescue_route_not_allowed", True, "No line.")
    ]


def test_a_reason_without_a_hard_stop_is_not_stored(clinician, running_visit) -> None:
    given = services.give_drug(
        by=clinician,
        visit=running_visit,
        drug="ondansetron",
        route="iv",
        dose_mg=D(4),
        override_reason="Just in case.",
    )
    assert (given.override_reason, given.overridden_by) == ("", None)


def test_midazolam_is_drawn_from_the_ledger_and_recorded_as_given(
    nurse, clinician, custodian, clinic, running_visit
) -> None:
    vial = midazolam_vial(custodian, clinician, clinic)
    given = services.give_drug(
        by=nurse, visit=running_visit, drug="midazolam", route="iv", dose_mg=D(1), vial_id=vial.pk
    )
    draw = LedgerEntry.objects.get(pk=given.ledger_draw_entry_id)
    administered = LedgerEntry.objects.get(pk=given.ledger_administration_entry_id)
    assert (draw.kind, draw.amount_mg, draw.visit_id, draw.patient_id, draw.vial_id) == (
        "drawn",
        D("1.000"),
        running_visit.pk,
        running_visit.patient_id,
        vial.pk,
    )
    assert (administered.kind, administered.amount_mg, administered.visit_id, administered.draw_id) == (
        "administered",
        D("1.000"),
        running_visit.pk,
        draw.pk,
    )
    assert Vial.objects.get(pk=vial.pk).balance_mg == D("1.000")


def test_a_clinician_cannot_record_a_midazolam_draw(clinician, custodian, clinic, running_visit) -> None:
    vial = midazolam_vial(custodian, clinician, clinic)
    entries = LedgerEntry.objects.count()
    with pytest.raises(PermissionDenied) as refusal:
        services.give_drug(
            by=clinician, visit=running_visit, drug="midazolam", route="iv", dose_mg=D(1), vial_id=vial.pk
        )
    assert refusal.value.message.startswith("Midazolam is a controlled drug: it is drawn from the ledger")
    assert (DrugGiven.objects.count(), LedgerEntry.objects.count()) == (0, entries)


def test_midazolam_needs_a_vial_of_midazolam(nurse, custodian, clinician, clinic, running_visit) -> None:
    with pytest.raises(InfusionRuleError) as no_vial:
        services.give_drug(by=nurse, visit=running_visit, drug="midazolam", route="iv", dose_mg=D(1))
    ketamine = receive(custodian, clinician, clinic, vials=1).vials.get()
    with pytest.raises(InfusionRuleError) as wrong_vial:
        services.give_drug(
            by=nurse, visit=running_visit, drug="midazolam", route="iv", dose_mg=D(1), vial_id=ketamine.pk
        )
    assert (no_vial.value.field, wrong_vial.value.field) == ("vial_id", "vial_id")
    assert wrong_vial.value.message == "That is not a midazolam vial of this clinic."
    assert DrugGiven.objects.count() == 0
    assert LedgerEntry.objects.filter(kind="drawn").count() == 0


def test_no_drug_is_recorded_after_discharge(nurse, clinician, stopped_visit) -> None:
    services.discharge_patient(
        by=clinician, visit=stopped_visit, escort_name="Sam", escort_confirmed=True, override_reason="Test."
    )
    with pytest.raises(InfusionConflict):
        services.give_drug(by=nurse, visit=stopped_visit, drug="ondansetron", route="iv", dose_mg=D(4))
    assert DrugGiven.objects.count() == 0


def test_a_nurse_records_a_controlled_dose_past_a_hard_stop_that_a_clinician_co_signs(
    nurse, clinician, custodian, clinic, running_visit
) -> None:
    """Midazolam IM is not a route the protocol lists: the nurse draws it from the ledger, and the clinician
    who authorised it is named as the one who overrode."""
    vial = midazolam_vial(custodian, clinician, clinic)
    given = services.give_drug(
        by=nurse,
        visit=running_visit,
        drug="midazolam",
        route="im",
        dose_mg=D(1),
        vial_id=vial.pk,
        override_reason="No IV access; severe emergence agitation.",
        authorised_by=trusted(clinician),
    )
    assert (given.recorded_by, given.overridden_by, given.override_reason) == (
        nurse,
        clinician,
        "No IV access; severe emergence agitation.",
    )
    draw = LedgerEntry.objects.get(pk=given.ledger_draw_entry_id)
    assert (draw.kind, draw.amount_mg, draw.performed_by_id) == ("drawn", D("1.000"), nurse.pk)
    event = AuditEvent.objects.filter(object_type="infusion_drug_given").latest("pk")
    assert event.summary == f"Midazolam 1 mg im (hard stop overridden by {clinician.username})"


def test_a_co_signer_who_may_not_override_does_not_lift_a_hard_stop(
    nurse, front_desk, custodian, clinician, clinic, running_visit
) -> None:
    vial = midazolam_vial(custodian, clinician, clinic)
    entries = LedgerEntry.objects.count()
    with pytest.raises(PermissionDenied) as refusal:
        services.give_drug(
            by=nurse,
            visit=running_visit,
            drug="midazolam",
            route="im",
            dose_mg=D(1),
            vial_id=vial.pk,
            override_reason="No IV access.",
            authorised_by=trusted(front_desk),
        )
    assert "the clinician co-signs this entry" in refusal.value.message
    assert (DrugGiven.objects.count(), LedgerEntry.objects.count()) == (0, entries)


def _allergic(clinician: Any, visit: InfusionVisit, code: str, reaction: str = "") -> None:
    from ketaclinic.patients.services import AllergyDetails, record_allergy

    record_allergy(
        by=clinician, patient=visit.patient, details=AllergyDetails(substance_code=code, reaction=reaction)
    )


def test_a_rescue_drug_the_patient_is_allergic_to_is_a_hard_stop(nurse, clinician, running_visit) -> None:
    _allergic(clinician, running_visit, "ondansetron", "hives")
    with pytest.raises(InfusionRuleError) as refusal:
        services.give_drug(by=nurse, visit=running_visit, drug="ondansetron", route="iv", dose_mg=D(4))
    assert refusal.value.code == InfusionErrorCode.RESCUE_DOSE_HARD_STOP
    assert refusal.value.message == (
        "The patient's record lists an allergy that rules out Ondansetron: Ondansetron (hives). "
        "A clinician may give it with a recorded reason."
    )
    assert DrugGiven.objects.count() == 0


def test_a_nurse_cannot_override_an_allergy_hard_stop(nurse, clinician, running_visit) -> None:
    _allergic(clinician, running_visit, "setrons")
    with pytest.raises(PermissionDenied):
        services.give_drug(
            by=nurse,
            visit=running_visit,
            drug="ondansetron",
            route="iv",
            dose_mg=D(4),
            override_reason="Severe vomiting.",
        )
    assert DrugGiven.objects.count() == 0


def test_a_clinician_gives_a_drug_past_an_allergy_with_a_reason(clinician, running_visit) -> None:
    _allergic(clinician, running_visit, "ondansetron", "rash")
    given = services.give_drug(
        by=clinician,
        visit=running_visit,
        drug="ondansetron",
        route="iv",
        dose_mg=D(4),
        override_reason="Mild rash only; vomiting uncontrolled.",
    )
    assert (given.overridden_by, given.override_reason) == (
        clinician,
        "Mild rash only; vomiting uncontrolled.",
    )
    assert [(f["code"], f["is_hard_stop"]) for f in given.findings] == [("rescue_drug_allergy", True)]


def test_a_benzodiazepine_allergy_stops_midazolam(nurse, clinician, custodian, clinic, running_visit) -> None:
    vial = midazolam_vial(custodian, clinician, clinic)
    _allergic(clinician, running_visit, "benzodiazepines", "paradoxical agitation")
    with pytest.raises(InfusionRuleError) as refusal:
        services.give_drug(
            by=nurse, visit=running_visit, drug="midazolam", route="iv", dose_mg=D(2), vial_id=vial.pk
        )
    assert refusal.value.message.startswith(
        "The patient's record lists an allergy that rules out Midazolam: "
        "Benzodiazepines (paradoxical agitation)."
    )
    assert DrugGiven.objects.count() == 0
    assert LedgerEntry.objects.filter(vial=vial, kind="draw").count() == 0
