"""The FHIR API over the demo clinic (built once through the services): every resource type built and
validated, searches, paging, $everything, errors as OperationOutcomes, token auth for a FHIR client
integration account, and the access log. The permission matrix over every role is in
tests/authz/routes_fhir.py."""

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle

from ketaclinic.accounts import services as account_services
from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions.models import InfusionVisit, ReadingSource, VitalSignReading
from ketaclinic.interop.fhir.valuesets import LOINC, UCUM, VITAL_SIGNS_PROFILE
from ketaclinic.scheduling.models import Appointment
from tests.fhir.conftest import Demo

pytestmark = pytest.mark.django_db

ALL_TYPES = [
    "Patient",
    "RelatedPerson",
    "Practitioner",
    "Condition",
    "MedicationStatement",
    "MedicationAdministration",
    "Observation",
    "QuestionnaireResponse",
    "Encounter",
    "Appointment",
    "CarePlan",
    "Consent",
]


def _json(response: Any) -> Any:
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    return json.loads(response.content)


def _everything(client: Client, patient_id: int, **query: Any) -> Any:
    return _json(client.get(f"/fhir/Patient/{patient_id}/$everything", query))


def _ids(bundle: Any) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle.get("entry", [])]


def test_everything_holds_every_resource_type_of_the_record_each_valid(demo: Demo) -> None:
    client = demo.client("drchen")
    lena, noah = demo.patients["elena"], demo.patients["noah"]
    bundles = [_everything(client, lena.pk, _count=500), _everything(client, noah.pk, _count=500)]
    kinds = {entry["resource"]["resourceType"] for bundle in bundles for entry in bundle["entry"]}
    assert kinds == set(ALL_TYPES)
    for bundle in bundles:
        Bundle.model_validate(bundle)  # the whole Bundle, as a client would read it
        assert bundle["type"] == "searchset"
        assert [link["relation"] for link in bundle["link"]] == ["self"]  # one page holds it all
        assert bundle["entry"][0]["resource"]["id"] == str(bundle["entry"][0]["resource"]["id"])
    assert bundles[0]["entry"][0]["fullUrl"] == f"http://testserver/fhir/Patient/{lena.pk}"


def test_each_resource_read_by_id_is_the_one_in_everything(demo: Demo) -> None:
    client = demo.client("drchen")
    lena = demo.patients["elena"]
    bundle = _everything(client, lena.pk, _count=500)
    seen: set[str] = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] in seen:
            continue
        seen.add(resource["resourceType"])
        read = _json(client.get(f"/fhir/{resource['resourceType']}/{resource['id']}"))
        assert read == resource


def test_vital_signs_follow_the_profile_with_loinc_and_ucum(demo: Demo) -> None:
    client = demo.client("nurse")
    lena = demo.patients["elena"]
    bundle = _json(client.get("/fhir/Observation", {"patient": lena.pk, "category": "vital-signs"}))
    readings = VitalSignReading.objects.filter(visit__patient=lena).order_by("measured_at", "pk")
    reading = readings.first()
    assert reading is not None
    by_id = {entry["resource"]["id"]: entry["resource"] for entry in bundle["entry"]}
    bp = by_id[f"reading-{reading.pk}-bp"]
    assert bp["meta"]["profile"] == [VITAL_SIGNS_PROFILE]
    assert bp["code"]["coding"] == [
        {"system": LOINC, "code": "85354-9", "display": "Blood pressure panel with all children optional"}
    ]
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]) for c in bp["component"]] == [
        ("8480-6", {"value": reading.systolic_mmhg, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}),
        ("8462-4", {"value": reading.diastolic_mmhg, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}),
    ]
    heart_rate = by_id[f"reading-{reading.pk}-hr"]
    assert heart_rate["valueQuantity"] == {
        "value": reading.heart_rate_bpm,
        "unit": "/min",
        "system": UCUM,
        "code": "/min",
    }
    assert heart_rate["encounter"] == {"reference": f"Encounter/{reading.visit_id}"}
    assert all(r["category"][0]["coding"][0]["code"] == "vital-signs" for r in by_id.values())


def test_a_phq9_total_carries_its_loinc_code_and_items(demo: Demo) -> None:
    client = demo.client("drchen")
    lena = demo.patients["elena"]
    bundle = _json(client.get("/fhir/Observation", {"patient": lena.pk, "code": f"{LOINC}|44261-6"}))
    assert bundle["total"] >= 1
    first = bundle["entry"][0]["resource"]
    assert first["code"]["coding"][0]["code"] == "44261-6"
    assert first["valueQuantity"]["code"] == "{score}"
    item_codes = [component["code"]["coding"][0]["code"] for component in first["component"]]
    assert item_codes == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
        "69722-7",
    ]
    assert sum(c["valueInteger"] for c in first["component"][:9]) == first["valueQuantity"]["value"]
    assert first["derivedFrom"][0]["reference"].startswith("QuestionnaireResponse/")


def test_observation_search_by_date_and_paging(demo: Demo) -> None:
    client = demo.client("drchen")
    lena = demo.patients["elena"]
    every = _json(client.get("/fhir/Observation", {"patient": lena.pk, "_count": 500}))
    page = _json(client.get("/fhir/Observation", {"patient": lena.pk, "_count": 3, "_offset": 3}))
    assert page["total"] == every["total"]
    assert _ids(page) == _ids(every)[3:6]
    relations = {link["relation"]: link["url"] for link in page["link"]}
    assert set(relations) == {"self", "next", "previous"}
    assert "_offset=6" in relations["next"]
    assert "_offset=0" in relations["previous"]
    none = _json(client.get("/fhir/Observation", {"patient": lena.pk, "date": "lt1900"}))
    assert none["total"] == 0
    assert "entry" not in none
    since = _json(client.get("/fhir/Observation", {"patient": lena.pk, "date": "ge1900-01-01"}))
    assert since["total"] == every["total"]


def test_patient_search_by_identifier_name_and_birthdate(demo: Demo) -> None:
    client = demo.client("frontdesk")
    lena = demo.patients["elena"]
    for query in (
        {"identifier": lena.record_number},
        {"identifier": f"urn:ketaclinic:record-number|{lena.record_number}"},
        {"name": "mars"},
        {"name": "LENA"},
        {"birthdate": lena.date_of_birth.isoformat()},
    ):
        bundle = _json(client.get("/fhir/Patient", query))
        assert _ids(bundle) == [f"Patient/{lena.pk}"], query
    other_system = _json(client.get("/fhir/Patient", {"identifier": f"urn:other|{lena.record_number}"}))
    assert other_system["total"] == 0
    # Only the main clinic's four patients and the FHIR demo's own: the lake clinic's is not found.
    assert _json(client.get("/fhir/Patient"))["total"] == 5


def test_encounter_and_appointment_searches(demo: Demo) -> None:
    client = demo.client("nurse")
    lena = demo.patients["elena"]
    visit = InfusionVisit.objects.get(patient=lena)
    encounters = _json(client.get("/fhir/Encounter", {"patient": f"Patient/{lena.pk}"}))
    assert _ids(encounters) == [f"Encounter/{visit.pk}"]
    assert encounters["entry"][0]["resource"]["status"] == "in-progress"
    appointments = Appointment.objects.filter(patient=lena).order_by("starts_at", "pk")
    first = appointments.first()
    assert first is not None
    day = first.starts_at.date().isoformat()
    found = _json(client.get("/fhir/Appointment", {"patient": lena.pk, "date": day}))
    expected = [a for a in appointments if a.starts_at.date().isoformat() == day]
    assert _ids(found) == [f"Appointment/{a.pk}" for a in expected]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/fhir/Observation", 400, "invalid"),
        ("/fhir/Observation?patient=1&colour=red", 400, "invalid"),
        ("/fhir/Observation?patient=1&date=yesterday", 400, "invalid"),
        ("/fhir/Patient?_count=-1", 400, "invalid"),
        ("/fhir/Patient?_count=501", 400, "invalid"),
        ("/fhir/Patient/999999", 404, "not-found"),
        ("/fhir/Observation/scale-999999", 404, "not-found"),
        ("/fhir/Observation/nonsense", 404, "not-found"),
        ("/fhir/Specimen", 404, "not-found"),
        ("/fhir/Patient/999999/$everything", 404, "not-found"),
    ],
)
def test_errors_are_operation_outcomes(demo: Demo, url: str, status: int, code: str) -> None:
    response = demo.client("drchen").get(url)
    assert response.status_code == status
    outcome = _json(response)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == code


def test_another_clinics_patient_is_not_found_and_a_patient_user_is_refused(demo: Demo) -> None:
    aisha, lena = demo.patients["aisha"], demo.patients["elena"]
    response = demo.client("drchen").get(f"/fhir/Patient/{aisha.pk}/$everything")
    assert response.status_code == 404
    assert _json(demo.client("drchen").get("/fhir/Encounter", {"patient": aisha.pk}))["total"] == 0
    for username in ("lena", "claire"):
        refused = demo.client(username).get(f"/fhir/Patient/{lena.pk}")
        assert refused.status_code == 403
        assert _json(refused)["issue"][0]["code"] == "forbidden"
    anonymous = Client().get(f"/fhir/Patient/{lena.pk}")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="ketaclinic FHIR"'


def test_a_fhir_client_reads_with_its_token_and_not_the_access_log(demo: Demo) -> None:
    admin, integration = demo.users["admin"], demo.users["fhir-client"]
    _, raw = account_services.create_api_token(by=admin, user=integration, name="referral EHR")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    lena, aisha = demo.patients["elena"], demo.patients["aisha"]
    bundle = _everything(client, lena.pk, _count=500)
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert "Observation" in kinds
    assert "AuditEvent" not in kinds
    assert client.get(f"/fhir/AuditEvent?patient={lena.pk}").status_code == 403
    assert client.get(f"/fhir/Patient/{aisha.pk}").status_code == 404  # it serves the main clinic only
    assert Client(HTTP_AUTHORIZATION="Bearer kc_not-a-token").get("/fhir/Patient").status_code == 401
    # Its token does nothing else: the JSON API and the pages refuse it.
    assert client.get(f"/api/patients/{lena.pk}").status_code == 403
    assert client.post(f"/fhir/Patient/{lena.pk}").status_code == 405
    entry = AuditEvent.objects.filter(actor=integration, object_type="fhir_everything").get()
    assert (entry.patient_id, entry.action, entry.channel) == (lena.pk, "export", "api")


def test_reads_and_searches_reach_the_patients_access_log(demo: Demo) -> None:
    client = demo.client("nurse")
    nurse, lena = demo.users["nurse"], demo.patients["elena"]
    client.get(f"/fhir/Patient/{lena.pk}")
    client.get("/fhir/Condition", {"patient": lena.pk})
    read = AuditEvent.objects.filter(actor=nurse, object_type="fhir_Patient").get()
    assert (read.patient_id, read.action, read.channel, read.object_id) == (
        lena.pk,
        "view",
        "api",
        str(lena.pk),
    )
    listed = AuditEvent.objects.filter(actor=nurse, object_type="fhir_Condition").order_by("pk")
    assert [(e.patient_id, e.action) for e in listed] == [(None, "list"), (lena.pk, "list")]


def test_audit_events_for_a_clinic_admin(demo: Demo) -> None:
    lena = demo.patients["elena"]
    bundle = _json(demo.client("admin").get("/fhir/AuditEvent", {"patient": lena.pk, "_count": 5}))
    assert bundle["total"] == AuditEvent.objects.filter(patient_id=lena.pk).count() - 1  # less its own read
    assert [e["resource"]["entity"][0]["what"] for e in bundle["entry"]] == [
        {"reference": f"Patient/{lena.pk}"}
    ] * 5


def _more_readings(visit: InfusionVisit, number: int) -> None:
    first = VitalSignReading.objects.filter(visit=visit).order_by("pk").first()
    assert first is not None
    VitalSignReading.objects.bulk_create(
        [
            VitalSignReading(
                visit=visit,
                measured_at=first.measured_at,
                source=ReadingSource.MANUAL,
                systolic_mmhg=120 + n % 40,
                diastolic_mmhg=80,
                heart_rate_bpm=70,
                recorded_by=first.recorded_by,
                recorded_at=first.recorded_at,
            )
            for n in range(number)
        ]
    )


def _pages(client: Client, patient_id: int, count: int) -> list[Any]:
    pages = [_everything(client, patient_id, _count=count)]
    while (following := [link for link in pages[-1]["link"] if link["relation"] == "next"]) != []:
        pages.append(_json(client.get(following[0]["url"])))
        assert len(pages) < 200
    return pages


def test_everything_pages_hold_the_whole_record_once_in_order(demo: Demo) -> None:
    client = demo.client("drchen")
    lena = demo.patients["elena"]
    whole = [
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in _everything(client, lena.pk, _count=500)["entry"]
        if e["search"]["mode"] == "match"
    ]
    paged: list[str] = []
    for page in _pages(client, lena.pk, 7):
        matches = [e for e in page.get("entry", []) if e["search"]["mode"] == "match"]
        assert len(matches) <= 7
        paged += [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in matches]
        # The staff a page's resources name come with it, as includes.
        named = {
            ref["reference"]
            for e in matches
            for ref in _references(e["resource"])
            if ref.get("reference", "").startswith("Practitioner/")
        }
        included = {
            f"Practitioner/{e['resource']['id']}"
            for e in page.get("entry", [])
            if e["search"]["mode"] == "include"
        }
        assert named == included
    assert paged == whole
    assert len(whole) > 30


def _references(value: Any) -> list[Any]:
    if isinstance(value, dict):
        found = [value] if "reference" in value else []
        return found + [ref for inner in value.values() for ref in _references(inner)]
    if isinstance(value, list):
        return [ref for inner in value for ref in _references(inner)]
    return []


def _page_queries(client: Client, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        bundle = _json(client.get(url))
    return len(captured.captured_queries), bundle


def test_everything_reads_only_its_page_whatever_the_length_of_the_history(demo: Demo) -> None:
    """A page's queries do not grow with the history: the first page, and a page in the middle of the chair's
    readings, cost the same before and after 300 more readings (paged in SQL, not built and sliced)."""
    client = demo.client("drchen")
    lena = demo.patients["elena"]
    visit = InfusionVisit.objects.get(patient=lena)
    first_url = f"/fhir/Patient/{lena.pk}/$everything?_count=10"
    _everything(client, lena.pk, _count=10)  # warm the caches every page needs (protocol, session)

    def readings_page() -> str:
        """The URL of the first page that starts among the chair's readings."""
        for page in _pages(client, lena.pk, 10)[1:]:
            self_url = next(link["url"] for link in page["link"] if link["relation"] == "self")
            if page["entry"][0]["resource"]["id"].startswith("reading-"):
                return self_url.removeprefix("http://testserver")
        raise AssertionError("no page starts among the readings")

    before = [_page_queries(client, first_url)[0], _page_queries(client, readings_page())[0]]
    _more_readings(visit, 300)
    after = [_page_queries(client, first_url)[0], _page_queries(client, readings_page())[0]]
    assert after[0] == before[0]
    # The page among the readings: before, its 10 resources ran past the readings into the sections after them
    # (a few queries each); with 300 more readings it stays among them. Never more.
    assert after[1] <= before[1]
    # Pinned: the session and the caller, the patient, the sections the page walks (a few queries each),
    # the staff it names, and the audit entry. A page never reads more than its rows.
    assert max(before) <= 40, before


def test_everything_refuses_a_cursor_it_did_not_write(demo: Demo) -> None:
    lena = demo.patients["elena"]
    response = demo.client("drchen").get(f"/fhir/Patient/{lena.pk}/$everything", {"_page": "1.x"})
    assert response.status_code == 400
    assert _json(response)["issue"][0]["diagnostics"] == "_page must be the value a next link carries."


def test_the_capability_statement_lists_what_is_served(demo: Demo) -> None:
    statement = _json(Client().get("/fhir/metadata"))
    assert statement["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert sorted(resources) == sorted([*ALL_TYPES, "AuditEvent", "Provenance"])
    assert [p["name"] for p in resources["Observation"]["searchParam"]] == [
        "patient",
        "category",
        "code",
        "date",
        "_count",
        "_offset",
    ]
    assert resources["Patient"]["operation"][0]["name"] == "everything"
    assert "system/Patient.read" in statement["rest"][0]["security"]["description"]
    assert "system/AuditEvent.read" not in statement["rest"][0]["security"]["description"]


def test_a_signed_visit_record_is_a_provenance_of_its_encounter(demo: Demo) -> None:
    from ketaclinic.infusions.models import VisitSignature

    lena, nurse = demo.patients["elena"], demo.users["nurse"]
    visit = InfusionVisit.objects.get(patient=lena)
    signature = VisitSignature.objects.create(
        visit=visit, role="nurse", signed_by=nurse, signed_at=visit.opened_at
    )
    client = demo.client("drchen")
    read = _json(client.get(f"/fhir/Provenance/{signature.pk}"))
    assert read["target"] == [{"reference": f"Encounter/{visit.pk}"}]
    assert read["agent"][0]["who"] == {"reference": f"Practitioner/{nurse.pk}"}
    assert read["agent"][0]["type"]["coding"][0]["code"] == "author"
    assert f"Provenance/{signature.pk}" in _ids(_everything(client, lena.pk, _count=500))
    assert _ids(_json(client.get("/fhir/Provenance", {"patient": lena.pk}))) == [f"Provenance/{signature.pk}"]
