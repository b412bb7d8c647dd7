"""Dose order pages: who may see and do what, what the pages show, and bad input re-rendering."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.dosing import services
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderCosignature
from ketaclinic.dosing.tests.conftest import ELIGIBILITY_REASON, days_later, draft, prescribe

pytestmark = pytest.mark.django_db

CAN_VIEW = {"clinician", "nurse"}
ALL_ROLES = [
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


def form_data(patient, **overrides: str) -> dict[str, str]:
    data = {
        "weight_kg": "80",
        "weight_measured_on": clock.today_in(patient.clinic.time_zone).isoformat(),
        "height_cm": "170",
        "dose_mg_per_kg": "0.5",
        "duration_min": "40",
        "vial_concentration_mg_per_ml": "50",
        "diluent_volume_ml": "100",
        "note": "",
    }
    data.update(overrides)
    return data


def expected(role: str, allowed: set[str]) -> int:
    return 200 if role in allowed else 404 if role == "outsider" else 403


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patient_orders_matrix(role, request, client_for, order, patient) -> None:
    response = client_for(request.getfixturevalue(role)).get(
        reverse("dosing:patient_orders", args=[patient.pk])
    )
    assert response.status_code == expected(role, CAN_VIEW)
    if response.status_code == 200:
        assert reverse("dosing:order_detail", args=[order.pk]) in response.text
        assert "Awaiting co-signature" in response.text


@pytest.mark.parametrize("role", ALL_ROLES)
def test_order_detail_matrix(role, request, client_for, order) -> None:
    user = request.getfixturevalue(role)
    response = client_for(user).get(reverse("dosing:order_detail", args=[order.pk]))
    assert response.status_code == expected(role, CAN_VIEW)
    audited = AuditEvent.objects.filter(
        object_type="dose_order", object_id=str(order.pk), actor=user, action="view"
    ).count()
    assert audited == (1 if response.status_code == 200 else 0)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_queue_matrix(role, request, client_for, order) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("dosing:queue"))
    allowed = CAN_VIEW | {"outsider"}
    assert response.status_code == (200 if role in allowed else 403)
    if response.status_code == 200:
        assert (reverse("dosing:order_detail", args=[order.pk]) in response.text) is (role != "outsider")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_new_order_matrix(role, request, client_for, patient) -> None:
    client = client_for(request.getfixturevalue(role))
    response = client.post(
        reverse("dosing:order_new", args=[patient.pk]),
        form_data(patient, override_no_eligibility_decision=ELIGIBILITY_REASON),
    )
    if role == "clinician":
        order = DoseOrder.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("dosing:order_detail", args=[order.pk])
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert DoseOrder.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_cosign_matrix(role, request, client_for, order) -> None:
    user = request.getfixturevalue(role)
    response = client_for(user).post(
        reverse("dosing:order_cosign", args=[order.pk]), {"entered_rate_ml_per_h": "151.2"}
    )
    if role == "nurse":
        assert response.status_code == 302
        assert OrderCosignature.objects.get().cosigned_by == user
    else:
        # The clinician prescribed this order: the page answers, but refuses the co-signature.
        assert response.status_code == {"clinician": 200, "outsider": 404}.get(role, 403)
        assert OrderCosignature.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_override_matrix(role, request, client_for, order) -> None:
    with days_later(1):
        response = client_for(request.getfixturevalue(role)).post(
            reverse("dosing:order_override", args=[order.pk]),
            {
                "code": "weight_stale",
                "weight_stale-code": "weight_stale",
                "weight_stale-reason": "Weighed last night.",
            },
        )
    if role == "clinician":
        assert response.status_code == 302
        assert HardStopOverride.objects.filter(code="weight_stale").count() == 1
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert HardStopOverride.objects.filter(code="weight_stale").count() == 0


def test_anonymous_is_sent_to_sign_in(order) -> None:
    from django.test import Client

    response = Client().get(reverse("dosing:order_detail", args=[order.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_new_order_form_starts_from_the_protocol_defaults(client_for, clinician, patient) -> None:
    response = client_for(clinician).get(reverse("dosing:order_new", args=[patient.pk]))
    assert response.status_code == 200
    assert 'name="dose_mg_per_kg" value="0.5"' in response.text
    assert 'name="duration_min" value="40"' in response.text
    assert '<option value="50" selected>50 mg/mL</option>' in response.text
    assert 'name="diluent_volume_ml" value="100"' in response.text


def test_new_order_form_never_fills_the_weighed_on_date_with_today(client_for, clinician, patient) -> None:
    response = client_for(clinician).get(reverse("dosing:order_new", args=[patient.pk]))
    field = response.text.split('name="weight_measured_on"')[1].split(">")[0]
    assert "value=" not in field
    assert 'name="weight_kg"' in response.text
    assert 'name="weight_kg" value=' not in response.text


def test_new_order_form_takes_the_weight_and_date_recorded_today(client_for, clinician, patient) -> None:
    from ketaclinic.screening.services import record_vital_signs

    record_vital_signs(
        by=clinician,
        patient=patient,
        systolic_mmhg=120,
        diastolic_mmhg=80,
        heart_rate_bpm=70,
        weight_kg=D("81.4"),
        height_cm=D("172.0"),
    )
    response = client_for(clinician).get(reverse("dosing:order_new", args=[patient.pk]))
    today = clock.today_in(patient.clinic.time_zone).isoformat()
    assert f'name="weight_measured_on" value="{today}"' in response.text
    assert 'name="weight_kg" value="81.4"' in response.text


def test_a_weight_from_yesterday_does_not_fill_the_form(client_for, clinician, patient) -> None:
    from ketaclinic.screening.services import record_vital_signs

    record_vital_signs(
        by=clinician,
        patient=patient,
        systolic_mmhg=120,
        diastolic_mmhg=80,
        heart_rate_bpm=70,
        weight_kg=D("81.4"),
        height_cm=D("172.0"),
        measured_at=clock.now() - dt.timedelta(days=1),
    )
    response = client_for(clinician).get(reverse("dosing:order_new", args=[patient.pk]))
    assert 'name="weight_kg" value=' not in response.text
    field = response.text.split('name="weight_measured_on"')[1].split(">")[0]
    assert "value=" not in field


def test_hard_stop_without_reason_rerenders_with_the_reason_box_and_saves_nothing(
    client_for, clinician, patient
) -> None:
    response = client_for(clinician).post(reverse("dosing:order_new", args=[patient.pk]), form_data(patient))
    assert response.status_code == 200
    assert "Each hard stop needs a reason to override it" in response.text
    assert 'name="override_no_eligibility_decision"' in response.text
    assert "No eligibility decision is recorded for this patient." in response.text
    assert 'value="80"' in response.text
    assert DoseOrder.objects.count() == 0


def test_invalid_input_rerenders_with_field_errors(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        reverse("dosing:order_new", args=[patient.pk]), form_data(patient, weight_kg="heavy", height_cm="12")
    )
    assert response.status_code == 200
    assert "Enter a number." in response.text
    assert DoseOrder.objects.count() == 0


def test_impossible_height_is_a_field_error(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        reverse("dosing:order_new", args=[patient.pk]), form_data(patient, height_cm="17")
    )
    assert response.status_code == 200
    assert "A height of 17 cm is outside 80 to 230 cm" in response.text


def test_live_calculation_returns_the_figures_fragment(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        reverse("dosing:calculate", args=[patient.pk]),
        form_data(patient, override_no_eligibility_decision="typed so far"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    for text in ("40 mg", "0.8 mL", "100.8 mL", "151.2 mL/h", "0.397 mg/mL", "240.3 ng/mL", "typed so far"):
        assert text in response.text, text
    assert DoseOrder.objects.count() == 0


def test_live_calculation_with_missing_weight_asks_for_it(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        reverse("dosing:calculate", args=[patient.pk]), form_data(patient, weight_kg="")
    )
    assert response.status_code == 200
    assert "Enter the weight, dose, duration and bag" in response.text


def test_detail_shows_the_curve_and_hides_the_rate_from_the_cosigner(
    client_for, clinician, nurse, order
) -> None:
    url = reverse("dosing:order_detail", args=[order.pk])
    nurse_page = client_for(nurse).get(url).text
    assert "151.2 mL/h" not in nurse_page
    assert "shown after the co-signer" in nurse_page
    assert '<polyline class="pk-curve"' in nurse_page
    assert "Domino (3-compartment, with effect site)" in nurse_page
    assert "above the ceiling of 250 ng/mL" in nurse_page
    assert "end of infusion (40 min)" in nurse_page
    assert f'href="/dosing/orders/{order.pk}/cosign/"' in nurse_page
    prescriber_page = client_for(clinician).get(url).text
    assert "151.2 mL/h" in prescriber_page
    assert "/cosign/" not in prescriber_page


def test_cosign_with_a_wrong_rate_rerenders_with_the_error(client_for, nurse, order) -> None:
    response = client_for(nurse).post(
        reverse("dosing:order_cosign", args=[order.pk]), {"entered_rate_ml_per_h": "150"}
    )
    assert response.status_code == 200
    assert "does not match the order" in response.text
    assert OrderCosignature.objects.count() == 0


def test_after_cosignature_the_rate_is_shown_and_the_order_is_ready(client_for, nurse, order) -> None:
    services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
    page = client_for(nurse).get(reverse("dosing:order_detail", args=[order.pk])).text
    assert "151.2 mL/h" in page
    assert "Ready (signed and co-signed)" in page


def test_detail_offers_override_forms_for_new_hard_stops(client_for, clinician, order) -> None:
    with days_later(2):
        page = client_for(clinician).get(reverse("dosing:order_detail", args=[order.pk])).text
    assert "Cannot be co-signed yet" in page
    assert "The weight was measured 2 day(s) ago" in page
    assert "Override with this reason" in page


def test_override_without_reason_rerenders(client_for, clinician, order) -> None:
    with days_later(1):
        response = client_for(clinician).post(
            reverse("dosing:order_override", args=[order.pk]),
            {"code": "weight_stale", "weight_stale-code": "weight_stale", "weight_stale-reason": ""},
        )
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert HardStopOverride.objects.filter(code="weight_stale").count() == 0


def test_supersede_page_prefills_and_replaces_the_order(client_for, clinician, order, patient) -> None:
    url = reverse("dosing:order_supersede", args=[order.pk])
    client = client_for(clinician)
    prefilled = client.get(url).text
    assert 'name="weight_kg" value="80"' in prefilled
    assert '<option value="50" selected>50 mg/mL</option>' in prefilled
    response = client.post(
        url,
        form_data(
            patient,
            dose_mg_per_kg="0.4",
            supersede_reason="Lower: marked dissociation last time.",
            override_no_eligibility_decision=ELIGIBILITY_REASON,
        ),
    )
    new = DoseOrder.objects.exclude(pk=order.pk).get()
    assert response.status_code == 302
    assert (new.supersedes_id, new.dose_mg) == (order.pk, D("32.0"))


def test_supersede_without_reason_rerenders(client_for, clinician, order, patient) -> None:
    response = client_for(clinician).post(
        reverse("dosing:order_supersede", args=[order.pk]),
        form_data(patient, override_no_eligibility_decision=ELIGIBILITY_REASON),
    )
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert DoseOrder.objects.count() == 1


def test_titration_page_proposes_the_next_dose(client_for, clinician, order, patient) -> None:
    response = client_for(clinician).get(
        reverse("dosing:titration", args=[patient.pk]),
        {"response_reduction_percent": "10", "tolerated": "on"},
    )
    assert response.status_code == 200
    assert "0.6 mg/kg" in response.text
    assert "?dose_mg_per_kg=0.6" in response.text
    form = client_for(clinician).get(
        reverse("dosing:order_new", args=[patient.pk]), {"dose_mg_per_kg": "0.6"}
    )
    assert 'name="dose_mg_per_kg" value="0.6"' in form.text


def test_titration_is_for_prescribers(client_for, nurse, patient) -> None:
    assert client_for(nurse).get(reverse("dosing:titration", args=[patient.pk])).status_code == 403


def test_orders_list_queries_do_not_grow_with_history(
    client_for, clinician, nurse, patient, django_assert_max_num_queries
) -> None:
    client = client_for(nurse)
    url = reverse("dosing:patient_orders", args=[patient.pk])
    order = prescribe(clinician, patient)
    services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    for _ in range(8):
        order = services.supersede_dose_order(
            by=clinician,
            order=order,
            draft=draft(patient),
            reason="Re-weighed.",
            overrides={"no_eligibility_decision": ELIGIBILITY_REASON},
        )
        services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=D("151.2"))
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(url)
    assert response.text.count("Superseded") == 8


def test_queue_queries_do_not_grow(client_for, clinician, nurse, patient) -> None:
    client = client_for(nurse)
    prescribe(clinician, patient)
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("dosing:queue"))
    for _ in range(6):
        prescribe(clinician, patient)
    with CaptureQueriesContext(connection) as after:
        response = client.get(reverse("dosing:queue"))
    assert response.text.count("Awaiting co-signature") == 7
    assert len(after.captured_queries) == len(before.captured_queries)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(
    ("url_name", "allowed", "on"),
    [
        ("dosing:order_new", {"clinician"}, "patient"),
        ("dosing:titration", {"clinician"}, "patient"),
        ("dosing:order_supersede", {"clinician"}, "order"),
        ("dosing:order_cosign", {"clinician", "nurse"}, "order"),
    ],
)
def test_form_pages_matrix(role, url_name, allowed, on, request, client_for, order, patient) -> None:
    target = patient if on == "patient" else order
    response = client_for(request.getfixturevalue(role)).get(reverse(url_name, args=[target.pk]))
    assert response.status_code == expected(role, allowed)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_live_calculation_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("dosing:calculate", args=[patient.pk]), form_data(patient)
    )
    assert response.status_code == expected(role, {"clinician"})
    assert AuditEvent.objects.filter(object_type="dose_calculation").count() == (
        1 if role == "clinician" else 0
    )


def test_supersede_matrix_for_other_clinics_order(client_for, outsider, order, patient) -> None:
    response = client_for(outsider).post(
        reverse("dosing:order_supersede", args=[order.pk]),
        form_data(patient, supersede_reason="Mine now.", override_no_eligibility_decision="x"),
    )
    assert response.status_code == 404
    assert DoseOrder.objects.count() == 1


def test_titration_page_starts_from_the_measured_response(
    client_for, clinician, nurse, order, patient
) -> None:
    import datetime as dt

    from ketaclinic.core import clock
    from ketaclinic.measures import services as measures_services
    from ketaclinic.measures.models import Context, InstrumentDefinition

    measures_services.load_shipped_instruments()
    phq9 = InstrumentDefinition.objects.get(key="phq9")
    for days_ago, item_score in ((14, 2), (1, 1)):  # PHQ-9 totals 16, then 8: a 50% reduction
        answers: dict[str, int | None] = {str(number): item_score for number in range(1, 9)}
        answers["9"], answers["difficulty"] = 0, None
        measures_services.record_administration(
            by=nurse,
            patient=patient,
            instrument=phq9,
            answers=answers,
            context=Context.AD_HOC,
            administered_at=clock.now() - dt.timedelta(days=days_ago),
        )
    response = client_for(clinician).get(reverse("dosing:titration", args=[patient.pk]))
    assert response.status_code == 200
    assert "Measured so far on PHQ-9: baseline 16, latest 8" in response.text
    assert 'name="response_reduction_percent" value="50.0"' in response.text


def test_titration_page_without_scores_asks_for_the_response(client_for, clinician, order, patient) -> None:
    response = client_for(clinician).get(reverse("dosing:titration", args=[patient.pk]))
    assert "No baseline and follow-up on the protocol's titration scales yet" in response.text
