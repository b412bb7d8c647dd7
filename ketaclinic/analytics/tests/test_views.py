"""Outcomes by diagnosis and by comorbidity: who may see them, what they say, the CSV, the audit entry."""

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse

from conftest import ALL_ROLE_FIXTURES
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.measures import services as measures_services
from ketaclinic.measures.models import Context, InstrumentDefinition
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.screening.models import DiagnosisRole
from ketaclinic.screening.services import record_diagnosis

pytestmark = pytest.mark.django_db
URL = reverse("analytics:outcomes")
EXPORT_URL = reverse("analytics:outcomes_export")


def _phq9(by: Any, patient: Any, total_items: list[int], days_ago: int) -> None:
    answers: dict[str, int | None] = {str(number): value for number, value in enumerate(total_items, start=1)}
    answers["difficulty"] = None
    measures_services.record_administration(
        by=by,
        patient=patient,
        instrument=InstrumentDefinition.objects.get(key="phq9"),
        answers=answers,
        context=Context.AD_HOC,
        administered_at=clock.now() - dt.timedelta(days=days_ago),
    )


@pytest.fixture
def cohort(clinic: Any, front_desk: Any, nurse: Any, clinician: Any) -> dict[str, Any]:
    """Three patients: a responder with MDD + GAD, a non-responder with MDD, one with no follow-up and no
    diagnosis recorded."""
    measures_services.load_shipped_instruments()
    responder = register_adult(by=front_desk, clinic=clinic, legal_given_name="Ada")
    steady = register_adult(by=front_desk, clinic=clinic, legal_given_name="Ben")
    lost = register_adult(by=front_desk, clinic=clinic, legal_given_name="Cy")
    record_diagnosis(by=clinician, patient=responder, icd10_code="F33.2", role=DiagnosisRole.PRIMARY)
    record_diagnosis(by=clinician, patient=responder, icd10_code="F41.1", role=DiagnosisRole.COMORBID)
    record_diagnosis(by=clinician, patient=steady, icd10_code="F33.1", role=DiagnosisRole.PRIMARY)
    _phq9(nurse, responder, [2, 2, 2, 2, 2, 2, 2, 2, 0], days_ago=30)  # 16
    _phq9(nurse, responder, [1, 1, 1, 1, 0, 0, 0, 0, 0], days_ago=2)  # 4: response and remission
    _phq9(nurse, steady, [2, 2, 2, 2, 2, 2, 2, 2, 0], days_ago=30)  # 16
    _phq9(nurse, steady, [2, 2, 2, 2, 2, 2, 1, 1, 0], days_ago=2)  # 14
    _phq9(nurse, lost, [2, 2, 2, 2, 2, 2, 2, 2, 0], days_ago=30)  # baseline only
    return {"responder": responder, "steady": steady, "lost": lost}


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_only_clinicians_and_clinic_admins_see_the_report(request: Any, client_for: Any, role: str) -> None:
    client = client_for(request.getfixturevalue(role))
    expected = 200 if role in {"clinician", "clinic_admin", "outsider"} else 403
    assert client.get(URL).status_code == expected
    assert client.get(EXPORT_URL).status_code == expected


def test_rates_by_primary_diagnosis_and_by_other_conditions(
    cohort: Any, client_for: Any, clinician: Any
) -> None:
    response = client_for(clinician).get(URL)
    assert response.status_code == 200
    (phq9,) = [item for item in response.context["results"] if item.key == "phq9"]
    assert (phq9.total.with_baseline, phq9.total.no_follow_up, phq9.total.responders) == (3, 1, 1)
    assert [
        (g.label, g.rates.with_baseline, g.rates.responders, g.rates.remitters) for g in phq9.by_diagnosis
    ] == [
        ("F33 Major depressive disorder, recurrent", 2, 1, 1),
        ("No diagnosis recorded", 1, 0, 0),
    ]
    assert [(g.label, g.rates.with_baseline, g.rates.responders) for g in phq9.by_comorbidity] == [
        ("No other diagnosis", 1, 0),
        ("1 other diagnosis", 1, 1),
        ("No diagnosis recorded", 1, 0),
    ]
    assert '50.0% <span class="muted small">(1 of 2)</span>' in response.text


def test_the_report_is_audited_and_another_clinics_patients_are_left_out(
    cohort: Any, client_for: Any, outsider: Any, clinician: Any
) -> None:
    response = client_for(outsider).get(URL)
    assert [item for item in response.context["results"] if item.key == "phq9"] == []
    client_for(clinician).get(URL)
    entry = AuditEvent.objects.filter(object_type="outcomes_by_diagnosis", actor=clinician).get()
    assert entry.summary == "outcomes by diagnosis and comorbidity for 3 patient(s)"


def test_the_export_has_a_row_per_group_and_guards_formulas(
    cohort: Any, client_for: Any, clinician: Any
) -> None:
    response = client_for(clinician).get(EXPORT_URL)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[arg-type]
    assert rows[0][:3] == ["instrument", "grouping", "group"]
    phq9_rows = [row for row in rows[1:] if row[0] == "PHQ-9"]
    assert [row[1:5] for row in phq9_rows] == [
        ["diagnosis", "F33 Major depressive disorder, recurrent", "2", "2"],
        ["diagnosis", "No diagnosis recorded", "1", "0"],
        ["comorbidity", "No other diagnosis", "1", "1"],
        ["comorbidity", "1 other diagnosis", "1", "1"],
        ["comorbidity", "No diagnosis recorded", "1", "0"],
    ]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_page_takes_the_same_queries_however_many_patients(
    cohort: Any, client_for: Any, clinician: Any, clinic: Any, front_desk: Any, nurse: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(clinician)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for name in ("Dee", "Eve", "Fay", "Gus"):
        patient = register_adult(by=front_desk, clinic=clinic, legal_given_name=name)
        _phq9(nurse, patient, [1] * 9, days_ago=10)
        _phq9(nurse, patient, [0] * 9, days_ago=1)
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_funnel_and_late_responders_come_from_the_plans_series_log(
    cohort: Any, client_for: Any, clinician: Any, front_desk: Any, nurse: Any
) -> None:
    from ketaclinic.plans import services as plan_services

    responder = cohort["responder"]
    plan_services.create_and_sign_plan(
        by=clinician, patient=responder, reason="Series.", override_reason="Decision on paper."
    )
    for number in range(6):  # six infusions attended, the last 10 days ago; response came 2 days ago
        when = clock.now() - dt.timedelta(days=20 - 2 * number)
        plan_services.note_infusion_booked(
            by=front_desk, patient=responder, appointment_id=number, starts_at=when
        )
        plan_services.note_infusion_attended(by=front_desk, patient=responder, appointment_id=number)
    steady = cohort["steady"]
    plan_services.create_and_sign_plan(
        by=clinician, patient=steady, reason="Series.", override_reason="Paper."
    )
    plan_services.note_infusion_booked(
        by=front_desk, patient=steady, appointment_id=99, starts_at=clock.now() - dt.timedelta(days=5)
    )
    plan_services.note_infusion_attended(by=front_desk, patient=steady, appointment_id=99)

    response = client_for(clinician).get(URL)
    funnel = response.context["funnel"]
    assert (funnel.with_plan, funnel.started, funnel.finished_series, funnel.stopped_after_first) == (
        2,
        2,
        1,
        1,
    )
    (phq9,) = [item for item in response.context["results"] if item.key == "phq9"]
    assert (phq9.late.responded_after_series, phq9.late.responded_by_series_end) == (1, 0)
    assert "Late responders (first response only after the series' last infusion): <strong>1</strong>" in (
        response.text
    )
