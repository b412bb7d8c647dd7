"""The chair screen's in-place actions: htmx posts get the page back (200) for the parts they swap, with the
message in the page; the strip merges a partial hand entry; a quick pick acknowledges an alert."""

import pytest
from django.urls import reverse

from ketaclinic.infusions.models import AlertAcknowledgement, InfusionVisit, VitalSignReading
from ketaclinic.infusions.tests.factories import checked_in, opened_visit, started

HTMX = {"HX-Request": "true"}


@pytest.fixture
def running(front_desk, clinician, nurse, clinic) -> InfusionVisit:
    visit = opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)
    checked_in(nurse, visit)
    started(nurse, visit)
    return visit


def test_a_partial_hand_entry_updates_the_strip_in_place(running, nurse, client_for) -> None:
    client = client_for(nurse)
    response = client.post(
        reverse("infusions:vitals", args=[running.pk]), {"systolic_mmhg": "206"}, headers=HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        'id="chair-flash" class="chair-flash" role="status">Recorded; 1 alert raised: see the alerts.' in body
    )
    assert 'data-saved="true"' in body
    [bp] = [cell for cell in response.context["screen"].strip if cell.key == "bp"]
    baseline = VitalSignReading.objects.filter(visit=running).order_by("pk").first()
    assert (bp.main.text, bp.main.band.value, bp.main.source.value) == (
        f"206/{baseline.diastolic_mmhg}",
        "danger",
        "hand",
    )


def test_a_refused_htmx_entry_comes_back_with_its_errors_and_nothing_written(
    running, nurse, client_for
) -> None:
    before = VitalSignReading.objects.count()
    response = client_for(nurse).post(
        reverse("infusions:vitals", args=[running.pk]), {"systolic_mmhg": "abc"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.context["vitals_form"].errors
    assert VitalSignReading.objects.count() == before
    plain = client_for(nurse).post(reverse("infusions:vitals", args=[running.pk]), {"systolic_mmhg": "abc"})
    assert plain.status_code == 400


def test_a_quick_pick_acknowledges_the_alert(running, nurse, client_for) -> None:
    client = client_for(nurse)
    client.post(reverse("infusions:vitals", args=[running.pk]), {"systolic_mmhg": "206"}, headers=HTMX)
    alert = running.alerts.order_by("pk").first()
    response = client.post(
        reverse("infusions:acknowledge", args=[alert.pk]),
        {"quick_pick": "Clinician informed", "action_taken": ""},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert AlertAcknowledgement.objects.get(alert=alert).action_taken == "Clinician informed"
    assert alert.pk not in {open_alert.pk for open_alert in response.context["screen"].open_alerts}


def test_an_unknown_quick_pick_is_not_an_acknowledgement(running, nurse, client_for) -> None:
    client = client_for(nurse)
    client.post(reverse("infusions:vitals", args=[running.pk]), {"systolic_mmhg": "206"}, headers=HTMX)
    alert = running.alerts.order_by("pk").first()
    response = client.post(
        reverse("infusions:acknowledge", args=[alert.pk]), {"quick_pick": "Ignored it", "action_taken": ""}
    )
    assert response.status_code == 400
    assert not AlertAcknowledgement.objects.filter(alert=alert).exists()
