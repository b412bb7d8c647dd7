import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_schema_lists_patient_and_protocol_routes() -> None:
    schema = Client().get("/api/openapi.json").json()
    assert {"/api/patients/", "/api/patients/{patient_id}"} <= set(schema["paths"])
    assert any(path.startswith("/api/protocol/") for path in schema["paths"])


def test_api_docs_use_packaged_swagger_files_not_a_cdn() -> None:
    page = Client().get("/api/docs").text
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn." not in page


def test_unauthenticated_api_call_answers_401_with_code() -> None:
    response = Client().get("/api/patients/1")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
