"""Plan pages: who may see and do what, what the pages show, bad input, audit and query counts."""

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.plans import services
from ketaclinic.plans.models import PlanEnd, PlanVersion
from ketaclinic.plans.selectors import active_plan, open_draft, plan_defaults
from ketaclinic.plans.tests.conftest import content

pytestmark = pytest.mark.django_db

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
CAN_VIEW = {"clinician", "nurse", "front_desk"}
CAN_CHANGE = {"clinician"}


def expected(role: str, allowed: set[str]) -> int:
    return 200 if role in allowed else 404 if role == "outsider" else 403


def form_data(**overrides: str) -> dict[str, str]:
    defaults = plan_defaults(population="adult")
    data = {name: "" if value is None else str(value) for name, value in vars(defaults).items()}
    for name in ("titration_allowed", "psychotherapy_in_session"):
        data.pop(name)
    data["reason"] = "New treatment plan."
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patient_plan_page_matrix(role: str, request: Any, client_for: Any, version: PlanVersion) -> None:
    patient = version.plan.patient
    response = client_for(request.getfixturevalue(role)).get(reverse("plans:patient", args=[patient.pk]))
    assert response.status_code == expected(role, CAN_VIEW)
    if response.status_code == 200:
        assert "Signed v1" in response.text
        assert "No infusion attended yet (series of 6)" in response.text


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_matrix(role: str, request: Any, client_for: Any, version: PlanVersion) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("plans:list"))
    allowed = CAN_VIEW | {"outsider"}
    assert response.status_code == (200 if role in allowed else 403)
    if role in CAN_VIEW:
        assert version.plan.patient.display_name in response.text
    if role == "outsider":
        assert "No active treatment plans." in response.text


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("page", ["create", "change", "end", "draft_edit", "draft_sign"])
def test_form_pages_matrix(
    role: str, page: str, request: Any, client_for: Any, clinician: Any, version: PlanVersion
) -> None:
    plan = version.plan
    if page == "create":
        args = [plan.patient_id]
    elif page in {"change", "end"}:
        args = [plan.pk]
    else:
        draft = services.start_new_version(by=clinician, plan=plan, reason="Check the matrix.")
        args = [draft.pk]
    response = client_for(request.getfixturevalue(role)).get(reverse(f"plans:{page}", args=args))
    assert response.status_code == expected(role, CAN_CHANGE)


@pytest.mark.parametrize("role", ["nurse", "front_desk", "outsider"])
def test_others_cannot_post_a_new_plan(
    role: str, request: Any, client_for: Any, eligible_patient: Any
) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("plans:create", args=[eligible_patient.pk]), form_data()
    )
    assert response.status_code == (404 if role == "outsider" else 403)
    assert not PlanVersion.objects.exists()


def test_the_new_plan_form_is_prefilled_from_the_protocol(
    client_for: Any, clinician: Any, eligible_patient: Any
) -> None:
    response = client_for(clinician).get(reverse("plans:create", args=[eligible_patient.pk]))
    assert response.status_code == 200
    assert 'name="induction_infusion_count" value="6"' in response.text
    assert 'name="start_dose_mg_per_kg" value="0.5"' in response.text
    assert 'name="maintenance_interval_days" value="21"' in response.text


def test_a_clinician_drafts_and_signs_a_plan(client_for: Any, clinician: Any, eligible_patient: Any) -> None:
    client = client_for(clinician)
    response = client.post(reverse("plans:create", args=[eligible_patient.pk]), form_data())
    assert response.status_code == 302
    page = client.get(reverse("plans:patient", args=[eligible_patient.pk]))
    assert "Draft" in page.text
    plan = active_plan(patient=eligible_patient)
    assert plan is not None
    draft = open_draft(plan=plan)
    assert draft is not None
    response = client.post(reverse("plans:draft_sign", args=[draft.pk]), {"override_reason": ""})
    assert response.status_code == 302
    version = PlanVersion.objects.get()
    assert (version.number, version.signed_by) == (1, clinician)
    assert AuditEvent.objects.filter(
        object_type="plan_version", patient_id=eligible_patient.pk, actor=clinician
    ).exists()


def test_values_outside_the_protocol_re_render_with_the_field_error(
    client_for: Any, clinician: Any, eligible_patient: Any
) -> None:
    response = client_for(clinician).post(
        reverse("plans:create", args=[eligible_patient.pk]), form_data(induction_infusion_count="12")
    )
    assert response.status_code == 422
    assert "The protocol allows 6 to 10 infusions in an induction series, not 12." in response.text


def test_bad_input_re_renders(client_for: Any, clinician: Any, eligible_patient: Any) -> None:
    response = client_for(clinician).post(
        reverse("plans:create", args=[eligible_patient.pk]), form_data(start_dose_mg_per_kg="lots")
    )
    assert response.status_code == 422
    assert "Enter a number." in response.text


def test_signing_without_eligibility_shows_the_hard_stop(
    client_for: Any, clinician: Any, patient: Any
) -> None:
    draft = services.create_plan(by=clinician, patient=patient, content=content())
    client = client_for(clinician)
    page = client.get(reverse("plans:draft_sign", args=[draft.pk]))
    assert "there is no signed eligibility decision" in page.text
    response = client.post(reverse("plans:draft_sign", args=[draft.pk]), {"override_reason": ""})
    assert response.status_code == 422
    assert "No signed eligibility decision." in response.text
    assert not PlanVersion.objects.exists()


def test_change_makes_a_new_version_with_history(
    client_for: Any, clinician: Any, version: PlanVersion
) -> None:
    client = client_for(clinician)
    response = client.post(
        reverse("plans:change", args=[version.plan_id]),
        {"phase": "induction", "reason": "Slower series: two a week."},
    )
    assert response.status_code == 302
    draft = open_draft(plan=version.plan)
    assert draft is not None
    client.post(
        reverse("plans:draft_edit", args=[draft.pk]), form_data(infusions_per_week_max="2", reason="")
    )
    client.post(reverse("plans:draft_sign", args=[draft.pk]), {"override_reason": ""})
    page = client.get(reverse("plans:patient", args=[version.plan.patient_id]))
    assert "Signed v2" in page.text
    assert "Slower series: two a week." in page.text
    assert "at most 2 a week" in page.text
    assert PlanVersion.objects.get(number=2).supersedes == version


def test_end_needs_a_reason_and_ends(client_for: Any, clinician: Any, version: PlanVersion) -> None:
    client = client_for(clinician)
    response = client.post(reverse("plans:end", args=[version.plan_id]), {"reason": ""})
    assert response.status_code == 422
    response = client.post(reverse("plans:end", args=[version.plan_id]), {"reason": "Moved away."})
    assert response.status_code == 302
    assert PlanEnd.objects.get().reason == "Moved away."
    page = client.get(reverse("plans:patient", args=[version.plan.patient_id]))
    assert "Moved away." in page.text
    assert "has no active treatment plan" in page.text


def test_the_plan_page_shows_progress_next_due_and_deviations(
    client_for: Any, clinician: Any, front_desk: Any, nurse: Any, version: PlanVersion
) -> None:
    patient = version.plan.patient
    first = clock.now() - dt.timedelta(days=6)
    services.note_infusion_booked(by=front_desk, patient=patient, appointment_id=1, starts_at=first)
    services.note_infusion_booked(
        by=front_desk, patient=patient, appointment_id=2, starts_at=first + dt.timedelta(days=2)
    )
    services.note_infusion_attended(by=nurse, patient=patient, appointment_id=1)
    services.note_infusion_cancelled(
        by=front_desk, patient=patient, appointment_id=2, reason="Flu", no_show=False
    )
    page = client_for(clinician).get(reverse("plans:patient", args=[patient.pk]))
    assert "Infusion 1 of 6 attended" in page.text
    assert "Induction infusion 2 of 6" in page.text
    assert "Cancelled infusion on" in page.text
    assert "No infusion is booked and the series is incomplete (1 of 6)." in page.text
    listing = client_for(clinician).get(reverse("plans:list"))
    assert "Infusion 1 of 6 attended" in listing.text


def test_reading_the_plan_page_is_audited(client_for: Any, nurse: Any, version: PlanVersion) -> None:
    patient = version.plan.patient
    client_for(nurse).get(reverse("plans:patient", args=[patient.pk]))
    assert AuditEvent.objects.filter(
        actor=nurse, action="view", object_type="treatment_plan", patient_id=patient.pk
    ).exists()


def _long_history(clinician: Any, front_desk: Any, nurse: Any, version: PlanVersion, rounds: int) -> None:
    patient = version.plan.patient
    plan = version.plan
    for number in range(rounds):
        draft = services.start_new_version(by=clinician, plan=plan, reason=f"Change {number}.")
        services.sign_plan(by=clinician, draft=draft)
    start = clock.now() - dt.timedelta(days=60)
    for number in range(1, rounds * 3):
        services.note_infusion_booked(
            by=front_desk, patient=patient, appointment_id=number, starts_at=start + dt.timedelta(days=number)
        )
        services.note_infusion_attended(by=nurse, patient=patient, appointment_id=number)


def test_plan_page_queries_do_not_grow_with_history(
    client_for: Any,
    clinician: Any,
    front_desk: Any,
    nurse: Any,
    version: PlanVersion,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(clinician)
    url = reverse("plans:patient", args=[version.plan.patient_id])
    _long_history(clinician, front_desk, nurse, version, 2)
    with django_assert_max_num_queries(60) as small:
        client.get(url)
    _long_history(clinician, front_desk, nurse, version, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert "Signed v15" in response.text


def test_the_next_infusion_already_booked_is_shown_with_its_date(
    client_for: Any, clinician: Any, front_desk: Any, version: PlanVersion
) -> None:
    patient = version.plan.patient
    soon = clock.now() + dt.timedelta(days=3)
    services.note_infusion_booked(by=front_desk, patient=patient, appointment_id=7, starts_at=soon)
    page = client_for(clinician).get(reverse("plans:patient", args=[patient.pk]))
    local_day = timezone.localtime(soon, zoneinfo.ZoneInfo(patient.clinic.time_zone)).date()
    assert f"booked for {local_day:%a} {local_day.day} {local_day:%b %Y}" in page.text
    assert "not booked yet" not in page.text
