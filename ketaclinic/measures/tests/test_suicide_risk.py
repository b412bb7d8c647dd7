"""Suicide-risk screening end to end (issue 14): an answer to a question the skip logic hides is stored,
scored and alerted, whether entered by staff, through a link, in the portal or over the API; C-SSRS triage and
the suicide items of QIDS-SR16 and MADRS raise alerts with the protocol's action where PHQ-9 item 9 does."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.measures import services
from ketaclinic.measures.models import Administration, Alert, Context, SubmittedVia
from ketaclinic.protocols.selectors import protocol_value

pytestmark = pytest.mark.django_db

HIGH_MESSAGE = (
    "C-SSRS screener: High risk. Immediate: safety precautions until a mental-health professional evaluates "
    "the patient."
)
HIDDEN_PLAN = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1, "6": 0}


def record(by, patient, instrument, answers):
    return services.record_administration(
        by=by,
        patient=patient,
        instrument=instrument,
        answers=answers,
        context=Context.AD_HOC,
        administered_at=clock.now(),
    )


def cssrs_link(by, patient, instruments):
    made = services.request_measure(
        by=by,
        patient=patient,
        instrument=instruments["cssrs_screener"],
        context=Context.AD_HOC,
        due_at=clock.now(),
        send_email=False,
    )
    return made


def test_a_hidden_yes_to_a_plan_is_stored_scored_high_alerted_and_emailed(
    nurse, clinician, patient, instruments, django_capture_on_commit_callbacks
) -> None:
    clinician.email = "dr@example.invalid"
    clinician.save()
    with django_capture_on_commit_callbacks(execute=True):
        made = record(nurse, patient, instruments["cssrs_screener"], HIDDEN_PLAN)
    made.refresh_from_db()
    assert (made.answers, made.risk_level, made.risk_label, made.unasked_items) == (
        HIDDEN_PLAN,
        "high",
        "High risk",
        ["3", "4", "5"],
    )
    alert = Alert.objects.get(administration=made)
    assert (alert.kind, alert.clinician_id, alert.message) == (
        "risk_level",
        clinician.pk,
        f"{HIGH_MESSAGE} Includes question 5, answered although the form skips it.",
    )
    assert [message.to for message in mail.outbox] == [["dr@example.invalid"]]
    summary = AuditEvent.objects.get(object_type="administration", object_id=str(made.pk)).summary
    assert summary == (
        "C-SSRS screener total 1 (High risk); 1 alert(s); kept answers to question(s) the form skips: 3, 4, 5"
    )


def test_a_hidden_yes_to_recent_behaviour_through_a_phone_link_is_stored_and_alerted(
    nurse, patient, instruments
) -> None:
    made = cssrs_link(nurse, patient, instruments)
    answers = {"1": 0, "2": 0, "6": 0, "6b": 1}
    submitted = services.submit_request(token=services.token_for(made), answers=answers)
    assert (submitted.submitted_via, submitted.answers, submitted.risk_level, submitted.unasked_items) == (
        SubmittedVia.LINK,
        answers,
        "high",
        ["6b"],
    )
    assert [alert.message for alert in Alert.objects.filter(administration=submitted)] == [
        f"{HIGH_MESSAGE} Includes question 6b, answered although the form skips it."
    ]


def test_lifetime_behaviour_longer_ago_is_moderate_risk_with_an_alert(nurse, patient, instruments) -> None:
    made = record(nurse, patient, instruments["cssrs_screener"], {"1": 0, "2": 0, "6": 1, "6b": 0})
    assert (made.risk_level, made.unasked_items) == ("moderate", [])
    assert Alert.objects.get(administration=made).message == (
        "C-SSRS screener: Moderate risk. Clinician review; outpatient mental-health referral and crisis line "
        "information."
    )
    assert made.protocol_versions["cssrs_triage_moderate_items"] == 1


def test_the_triage_items_are_protocol_data_with_sources_and_verified_flags(clinic) -> None:
    readings = {
        key: protocol_value(key)
        for key in ("cssrs_triage_high_items", "cssrs_triage_moderate_items", "cssrs_triage_low_items")
    }
    assert {key: (reading.value, reading.verified) for key, reading in readings.items()} == {
        "cssrs_triage_high_items": ("4, 5, 6b", True),
        "cssrs_triage_moderate_items": ("3, 6", False),
        "cssrs_triage_low_items": ("1, 2", False),
    }
    assert all("PROTOCOL.md Part C §C1" in reading.source for reading in readings.values())


def test_the_clinics_protocol_moves_a_triage_item(
    clinician, clinic_admin, nurse, patient, instruments
) -> None:
    from ketaclinic.protocols import services as protocol_services
    from ketaclinic.protocols.selectors import parameter_by_key

    parameter = parameter_by_key(viewer=clinic_admin, key="cssrs_triage_high_items")
    protocol_services.change_protocol_value(
        by=clinic_admin,
        parameter=parameter,
        value="3, 4, 5, 6b",
        source="Clinic policy: a method is high risk here.",
        verified=False,
        reason="Stricter triage",
    )
    made = record(
        nurse, patient, instruments["cssrs_screener"], {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 0}
    )
    assert (made.risk_level, made.protocol_versions["cssrs_triage_high_items"]) == ("high", 2)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, None),
        (1, "QIDS-SR16 item 12: thoughts of death or suicide. Review at the next contact."),
        (
            2,
            "QIDS-SR16 item 12: thinks of suicide or death several times a week or more. Same-day clinician "
            "review and a C-SSRS screen.",
        ),
        (
            3,
            "QIDS-SR16 item 12: thinks of suicide several times a day in detail, has made plans, or has "
            "tried. Immediate: clinician assessment now; safety precautions until the patient is evaluated.",
        ),
    ],
)
def test_qids_item12_raises_its_own_alert(value, message, nurse, patient, instruments) -> None:
    answers = {**{str(number): 0 for number in range(1, 17)}, "12": value}
    made = record(nurse, patient, instruments["qids_sr16"], answers)
    found = [(alert.kind, alert.message) for alert in Alert.objects.filter(administration=made)]
    assert found == ([] if message is None else [("item_above", message)])


@pytest.mark.parametrize(("value", "alerts"), [(3, 0), (4, 1), (6, 1)])
def test_madrs_item10_raises_its_own_alert(value, alerts, nurse, patient, instruments) -> None:
    made = record(nurse, patient, instruments["madrs"], {**{str(n): 0 for n in range(1, 11)}, "10": value})
    assert Alert.objects.filter(administration=made, kind="item_above").count() == alerts
    if value == 6:
        assert Alert.objects.get(administration=made).message == (
            "MADRS item 10: explicit plans or active preparation for suicide. Immediate: clinician "
            "assessment now; safety precautions until the patient is evaluated."
        )
    assert made.protocol_versions["madrs_item10_immediate_from"] == 1


def test_a_qids_item12_alert_shows_on_the_clinicians_home_and_alerts_pages(
    client_for, clinician, nurse, patient, instruments
) -> None:
    record(nurse, patient, instruments["qids_sr16"], {**{str(n): 0 for n in range(1, 17)}, "12": 3})
    home = client_for(clinician).get("/home/").text
    alerts_page = client_for(clinician).get(reverse("measures:alerts")).text
    for page in (home, alerts_page):
        assert "QIDS-SR16 item 12: thinks of suicide several times a day in detail" in page
        assert "Immediate: clinician assessment now" in page


# Pages -----------------------------------------------------------------------------------------------


def test_the_fill_page_marks_conditional_questions_for_the_live_script(nurse, patient, instruments) -> None:
    page = Client().get(services.fill_path(cssrs_link(nurse, patient, instruments))).text
    assert '<script src="/static/js/measures-answers.js" defer></script>' in page
    assert 'data-item="item_3" data-ask-if="item_2" data-ask-if-equals="1"' in page
    assert 'data-item="item_6b" data-ask-if="item_6" data-ask-if-equals="1"' in page
    assert 'data-item="item_2">' in page
    # Before any answer the skip logic asks questions 1, 2 and 6; question 6b is numbered by its key.
    assert "0 of 3 answered" in page
    assert "6b. Suicidal behaviour within the past 3 months" in page


def test_a_hidden_yes_posted_on_the_fill_page_is_stored_and_the_crisis_text_shown(
    nurse, patient, instruments
) -> None:
    url = services.fill_path(cssrs_link(nurse, patient, instruments))
    done = Client().post(url, {"item_1": "0", "item_2": "0", "item_4": "1", "item_6": "0"})
    assert done.status_code == 200
    assert "988 Suicide &amp; Crisis Lifeline" in done.text
    made = Administration.objects.get()
    assert (made.answers, made.risk_level) == ({"1": 0, "2": 0, "4": 1, "6": 0}, "high")


def test_staff_entry_page_keeps_a_hidden_yes_and_uses_the_live_script(
    client_for, nurse, patient, instruments
) -> None:
    url = reverse("measures:record", args=[patient.pk, instruments["cssrs_screener"].pk])
    page = client_for(nurse).get(url).text
    assert '<script src="/static/js/measures-answers.js" defer></script>' in page
    assert 'data-ask-if="item_2"' in page
    data = {"item_1": "0", "item_2": "0", "item_6": "0", "item_6b": "1"}
    data.update({"context": "ad_hoc", "administered_at": "2026-01-05T10:00"})
    response = client_for(nurse).post(url, data)
    assert response.status_code == 302
    made = Administration.objects.get()
    assert (made.answers, made.risk_level, made.unasked_items) == (
        {"1": 0, "2": 0, "6": 0, "6b": 1},
        "high",
        ["6b"],
    )


def test_the_cssrs_screener_can_be_sent_to_the_patient(client_for, front_desk, patient, instruments) -> None:
    response = client_for(front_desk).post(
        f"/api/measures/patients/{patient.pk}/requests",
        {"instrument_id": instruments["cssrs_screener"].pk, "due_at": "2026-01-05T10:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_the_api_stores_a_hidden_yes_whole_and_says_which_answers_were_skipped(
    client_for, nurse, patient, instruments
) -> None:
    response = client_for(nurse).post(
        f"/api/measures/patients/{patient.pk}/administrations",
        {
            "instrument_id": instruments["cssrs_screener"].pk,
            "answers": HIDDEN_PLAN,
            "context": "ad_hoc",
            "administered_at": "2026-01-05T10:00:00Z",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["answers"], body["risk_level"], body["unasked_items"], body["flags"]) == (
        HIDDEN_PLAN,
        "high",
        ["3", "4", "5"],
        [
            {
                "kind": "risk_level",
                "message": f"{HIGH_MESSAGE} Includes question 5, answered although the form skips it.",
            }
        ],
    )


def test_the_api_still_refuses_a_missing_answer_the_skip_logic_asks(
    client_for, nurse, patient, instruments
) -> None:
    response = client_for(nurse).post(
        f"/api/measures/patients/{patient.pk}/administrations",
        {
            "instrument_id": instruments["cssrs_screener"].pk,
            "answers": {"1": 1, "2": 1, "3": 0, "6": 0},
            "context": "ad_hoc",
            "administered_at": "2026-01-05T10:00:00Z",
        },
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "missing_answers")
    assert "question 4, 5" in response.json()["message"]
    assert Administration.objects.count() == 0


def test_the_changed_instruments_ship_as_new_versions(clinic) -> None:
    # A database loaded before this change keeps version 1 (and the results scored under it); loading the
    # shipped instruments again adds version 2 beside it, and new results use the newest.
    from ketaclinic.measures.models import InstrumentDefinition

    services.load_shipped_instruments()
    keys = ["phq9", "qids_sr16", "madrs", "cssrs_screener"]
    assert set(
        InstrumentDefinition.objects.filter(key__in=keys).values_list("key", "version", "respondent")
    ) == {
        ("phq9", 2, "self"),
        ("qids_sr16", 2, "self"),
        ("madrs", 2, "clinician"),
        ("cssrs_screener", 2, "self"),
    }
