"""The clinician's encounter page: one page, sections saved in place (htmx partials), errors kept in the
section, the progress summary, today's weight carried into the order, and nothing written on a refusal."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ketaclinic.core import clock
from ketaclinic.dosing.models import DoseOrder
from ketaclinic.dosing.rules.encounter import EncounterFacts, StepKey, encounter_steps, next_step
from ketaclinic.measures.services import load_shipped_instruments
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.plans.models import PlanDraft, PlanVersion
from ketaclinic.screening import services as screening_services
from ketaclinic.screening.models import Diagnosis, EligibilityDecision, Medication, VitalSigns
from ketaclinic.screening.tests.helpers import assess_depression

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, patient) -> str:
    return reverse(f"dosing:{name}", args=[patient.pk])


@pytest.fixture
def fresh(front_desk, clinic):
    return register_adult(front_desk, clinic)


@pytest.mark.parametrize(("role", "status"), [("clinician", 200), ("front_desk", 403), ("outsider", 404)])
def test_the_page_is_the_clinicians(role, status, request, client_for, fresh) -> None:
    response = client_for(request.getfixturevalue(role)).get(url("encounter", fresh))
    assert response.status_code == status
    if status == 200:
        for section in ("diagnoses", "medications", "history", "vitals", "contraindications", "scales"):
            assert f'id="encounter-{section}"' in response.text
        for section in ("decision", "plan", "order", "book"):
            assert f'id="encounter-{section}"' in response.text
        assert 'id="encounter-progress"' in response.text
        assert 'Next:</strong> <a href="#encounter-decision">Eligibility decision</a>' in response.text


def test_a_diagnosis_is_saved_in_place(client_for, clinician, fresh) -> None:
    body = {"icd10_code": "F33.2", "role": "primary", "status": "active", "onset_year": "", "note": ""}
    response = client_for(clinician).post(url("encounter_diagnosis", fresh), body, **HX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.count('id="encounter-diagnoses"') == 1
    assert "F33.2 Major depressive disorder, recurrent severe without psychotic features recorded." in (
        response.text
    )
    # The progress summary and the findings come along, out of band.
    assert (
        '<aside id="encounter-progress" class="card encounter-progress" aria-label="Progress" '
        'hx-swap-oob="true">' in response.text
    )
    assert (
        'id="encounter-contraindications" class="card encounter-section" hx-swap-oob="true"' in response.text
    )
    assert list(Diagnosis.objects.filter(patient=fresh).values_list("icd10_code", flat=True)) == ["F33.2"]


def test_a_refused_diagnosis_comes_back_in_its_section_with_the_input(client_for, clinician, fresh) -> None:
    body = {"icd10_code": "Z99.99", "role": "primary", "status": "active", "onset_year": "2019", "note": "x"}
    response = client_for(clinician).post(url("encounter_diagnosis", fresh), body, **HX)
    assert response.status_code == 422
    assert "Not saved. Please check the highlighted fields." in response.text
    assert 'value="Z99.99"' in response.text
    assert 'value="2019"' in response.text
    assert "hx-swap-oob" in response.text  # the progress only
    assert Diagnosis.objects.filter(patient=fresh).count() == 0


def test_a_front_desk_post_is_refused_and_writes_nothing(client_for, front_desk, fresh) -> None:
    body = {"icd10_code": "F33.2", "role": "primary", "status": "active", "onset_year": "", "note": ""}
    response = client_for(front_desk).post(url("encounter_diagnosis", fresh), body, **HX)
    assert response.status_code == 403
    assert Diagnosis.objects.filter(patient=fresh).count() == 0


def test_medications_are_found_by_search_and_added_with_one_button(client_for, clinician, fresh) -> None:
    client = client_for(clinician)
    found = client.get(url("encounter_medication_search", fresh), {"q": "sertra"}, **HX)
    assert found.status_code == 200
    assert '<button type="submit" name="name" value="sertraline" class="secondary">' in found.text
    assert 'type="checkbox"' not in found.text
    body = {"name": "sertraline", "dose_amount": "100", "dose_unit": "mg", "frequency": "once daily"}
    response = client.post(url("encounter_medication", fresh), body, **HX)
    assert response.status_code == 200
    row = Medication.objects.get(patient=fresh)
    assert (row.name, row.dose_amount, row.dose_unit, row.frequency) == (
        "sertraline",
        Decimal(100),
        "mg",
        "once daily",
    )


def test_an_unknown_medication_offers_to_add_it_as_typed(client_for, clinician, fresh) -> None:
    found = client_for(clinician).get(url("encounter_medication_search", fresh), {"q": "zzqx"}, **HX)
    assert "“zzqx” is not in the medication list." in found.text
    assert (
        '<button type="submit" name="name" value="zzqx" class="secondary">Add “zzqx”</button>' in found.text
    )


def test_todays_vitals_carry_into_the_order_but_an_older_weight_does_not(
    client_for, clinician, fresh
) -> None:
    client = client_for(clinician)
    page = client.get(url("encounter", fresh))
    assert "No weight recorded today" in page.text
    assert 'name="weight_measured_on"' in page.text
    assert 'name="weight_measured_on" class="calc-input" required id="order-weight_measured_on"' in page.text
    body = {
        "systolic_mmhg": "122",
        "diastolic_mmhg": "78",
        "heart_rate_bpm": "70",
        "spo2_percent": "98",
        "weight_kg": "81.5",
        "height_cm": "172",
    }
    response = client.post(url("encounter_vitals", fresh), body, **HX)
    assert response.status_code == 200
    today = clock.today_in(fresh.clinic.time_zone).isoformat()
    # The order section comes out of band with today's weight, height and date.
    assert 'id="encounter-order" class="card encounter-section" hx-swap-oob="true"' in response.text
    assert 'name="weight_kg" value="81.5"' in response.text
    assert f'name="weight_measured_on" value="{today}"' in response.text
    assert 'name="height_cm" value="172"' in response.text
    assert VitalSigns.objects.filter(patient=fresh).count() == 1


def test_the_journey_decision_plan_order_in_place(client_for, clinician, fresh) -> None:
    load_shipped_instruments()
    assess_depression(clinician, fresh)
    screening_services.record_vital_signs(
        by=clinician,
        patient=fresh,
        systolic_mmhg=120,
        diastolic_mmhg=80,
        heart_rate_bpm=70,
        spo2_percent=98,
        weight_kg=Decimal(80),
        height_cm=Decimal(170),
    )
    client = client_for(clinician)
    decided = client.post(
        url("encounter_decision", fresh),
        {
            "proposed": "eligible",
            "reasons": "TRD, two adequate trials.",
            "conditions": "",
            "alternatives": "",
        },
        **HX,
    )
    assert decided.status_code == 200
    assert "Eligibility signed: eligible." in decided.text
    assert '<a class="button" href="#encounter-plan">Next: treatment plan</a>' in decided.text
    assert EligibilityDecision.objects.filter(patient=fresh).count() == 1
    # The plan form lists the clinic's scales by name.
    assert 'type="checkbox" name="scales" value="phq9"' in decided.text
    page = client.get(url("encounter", fresh))
    assert "PHQ-9 · Patient Health Questionnaire-9" in page.text
    plan_body = _plan_body(page.text)
    drafted = client.post(url("encounter_plan", fresh), plan_body, **HX)
    assert drafted.status_code == 200, drafted.text
    assert "Plan drafted. Review it and sign it." in drafted.text
    signed = client.post(url("encounter_plan_sign", fresh), {"override_reason": ""}, **HX)
    assert signed.status_code == 200
    assert "Plan version 1 signed." in signed.text
    assert '<a class="button" href="#encounter-order">Next: dose order</a>' in signed.text
    assert PlanVersion.objects.filter(plan__patient=fresh).count() == 1
    today = clock.today_in(fresh.clinic.time_zone).isoformat()
    order_body = {
        "weight_kg": "80",
        "weight_measured_on": today,
        "height_cm": "170",
        "dose_mg_per_kg": "0.5",
        "duration_min": "40",
        "vial_concentration_mg_per_ml": "50",
        "diluent_volume_ml": "100",
        "note": "",
    }
    ordered = client.post(url("encounter_order", fresh), order_body, **HX)
    assert ordered.status_code == 200, ordered.text
    order = DoseOrder.objects.get(patient=fresh)
    assert f"Dose order of {order.dose_mg.normalize():f} mg signed." in ordered.text
    assert '<a class="button" href="#encounter-book">Next: first infusion booked</a>' in ordered.text
    assert 'id="encounter-book" class="card encounter-section" hx-swap-oob="true"' in ordered.text


def test_a_plan_with_no_scale_ticked_is_refused_in_place(client_for, clinician, fresh) -> None:
    client = client_for(clinician)
    body = _plan_body(client.get(url("encounter", fresh)).text)
    body.pop("scales")
    response = client.post(url("encounter_plan", fresh), body, **HX)
    assert response.status_code == 422
    assert "Not saved. Please check the highlighted fields." in response.text
    assert PlanDraft.objects.filter(plan__patient=fresh).count() == 0


def _plan_body(html: str) -> dict[str, object]:
    """The plan form's values as the page pre-fills them (the protocol's defaults)."""
    import re

    start = html.index('hx-post="/dosing/patients/')
    start = html.index("encounter/plan/", start)
    form = html[start : html.index("</form>", start)]
    body: dict[str, object] = {}
    for name, value in re.findall(r'<input type="(?:number|text)" name="(\w+)" value="([^"]*)"', form):
        body[name] = value
    for name, value in re.findall(
        r'<input type="(?:radio|checkbox)" name="(\w+)" value="(\w+)"[^>]*checked', form
    ):
        if name == "scales":
            body.setdefault("scales", []).append(value)  # type: ignore[union-attr]
        else:
            body[name] = value
    for name in re.findall(r'<input type="checkbox" name="(\w+)"[^>]*checked', form):
        body.setdefault(name, "on")
    for name, block in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', block)
        body[name] = chosen.group(1) if chosen else ""
    for name, text in re.findall(r'<textarea name="(\w+)"[^>]*>\s*(.*?)</textarea>', form, re.S):
        body[name] = text
    return body


def test_steps_and_the_next_one() -> None:
    facts = EncounterFacts(
        diagnoses=1,
        medications=0,
        history_recorded=True,
        unanswered_questions=2,
        vitals_today=True,
        open_hard_stops=1,
        scales_recorded=0,
        decision=None,
        decision_allows_treatment=False,
        plan_signed=False,
        plan_drafted=False,
        order_signed=False,
        booked=False,
    )
    steps = encounter_steps(facts)
    assert [(step.key.value, step.done, step.detail) for step in steps] == [
        ("diagnoses", True, "1 diagnosis"),
        ("medications", False, "none recorded"),
        ("history", False, "2 questions not asked"),
        ("vitals", True, "measured today"),
        ("contraindications", False, "1 hard stop open"),
        ("scales", False, "none scored"),
        ("decision", False, "not signed"),
        ("plan", False, "not drafted"),
        ("order", False, "not signed"),
        ("book", False, "not booked"),
    ]
    following = next_step(steps, decision_allows_treatment=False)
    assert following is not None
    assert following.key is StepKey.DECISION


def test_no_next_step_after_a_not_eligible_decision() -> None:
    facts = EncounterFacts(
        diagnoses=2,
        medications=1,
        history_recorded=True,
        unanswered_questions=0,
        vitals_today=False,
        open_hard_stops=0,
        scales_recorded=1,
        decision="not_eligible",
        decision_allows_treatment=False,
        plan_signed=False,
        plan_drafted=False,
        order_signed=False,
        booked=False,
    )
    steps = encounter_steps(facts)
    assert [step.detail for step in steps[:7]] == [
        "2 diagnoses",
        "1 medication",
        "every question answered",
        "not measured today",
        "no open hard stop",
        "1 scale scored",
        "not eligible",
    ]
    assert next_step(steps, decision_allows_treatment=False) is None
