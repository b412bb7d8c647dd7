"""A clinic's note templates: created from lines, replaced by a new version (the old one retired and kept,
its notes untouched), retired with a reason; never edited; shipped templates are not a clinic's to retire."""

from typing import Any

import pytest

from conftest import signed_in_client
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.notes import rules
from ketaclinic.notes.models import NoteTemplate
from ketaclinic.notes.selectors import notes as selectors
from ketaclinic.notes.services import notes as note_services
from ketaclinic.notes.services import templates as services
from ketaclinic.notes.tests.conftest import DAY

pytestmark = pytest.mark.django_db

LINES = "Reason for the call: what the patient asked\nAdvice given\nFollow-up (optional): if any"


def _create(by: Any, clinic: Any, **overrides: Any) -> NoteTemplate:
    fields: dict[str, Any] = {
        "clinic_id": clinic.pk,
        "name": "Phone check-in",
        "description": "Short calls",
        "sections_text": LINES,
        "session_fields": False,
        "default_encounter_kind": "phone_call",
    }
    fields.update(overrides)
    return services.create_template(by=by, **fields)


def test_sections_are_parsed_from_lines() -> None:
    sections = rules.parse_sections(LINES + "\n\nAdvice given: again")
    assert [(s.key, s.required) for s in sections] == [
        ("reason_for_the_call", True),
        ("advice_given", True),
        ("follow_up", False),
        ("advice_given_2", True),
    ]
    assert sections[0].hint == "what the patient asked"
    assert rules.template_problems(name="", sections=[])[0].field == "name"
    too_many = rules.parse_sections("\n".join(f"S{n}" for n in range(25)))
    assert rules.template_problems(name="X", sections=too_many)[0].field == "sections"


def test_create_replace_and_retire(clinic_admin: Any, clinician: Any, clinic: Any, patient: Any) -> None:
    first = _create(clinic_admin, clinic)
    assert (first.code, first.active, first.clinic_id) == ("phone-check-in", True, clinic.pk)
    note = note_services.create_note(
        by=clinician,
        patient=patient,
        template=first,
        encounter_kind="phone_call",
        encounter_on=DAY,
    )
    second = _create(clinician, clinic, sections_text="Reason\nAdvice", replaces=first)
    first.refresh_from_db()
    assert (first.active, first.retired_by, first.retire_reason) == (
        False,
        clinician,
        "replaced by Phone check-in",
    )
    assert (second.replaces, second.code) == (first, "phone-check-in-2")
    note.refresh_from_db()
    assert note.template == first  # a note keeps the version it was written from
    assert first not in selectors.templates_for(viewer=clinician, clinic_id=clinic.pk)
    with pytest.raises(DomainError) as again:
        _create(clinician, clinic, replaces=first)
    assert again.value.field == "replaces"
    with pytest.raises(DomainError) as no_reason:
        services.retire_template(by=clinic_admin, template=second, reason=" ")
    assert no_reason.value.code == "reason_required"
    services.retire_template(by=clinic_admin, template=second, reason="Not used any more.")
    assert NoteTemplate.objects.filter(clinic=clinic).count() == 2
    assert AuditEvent.objects.filter(object_type="note_template").count() == 4


def test_who_and_what_is_refused(
    clinic_admin: Any, nurse: Any, therapist: Any, other_clinic: Any, clinic: Any
) -> None:
    for person in (nurse, therapist):
        with pytest.raises(PermissionDenied):
            _create(person, clinic)
    with pytest.raises(NotFound):
        _create(clinic_admin, other_clinic)
    with pytest.raises(DomainError) as empty:
        _create(clinic_admin, clinic, sections_text="  \n ")
    assert empty.value.field == "sections"
    shipped = NoteTemplate.objects.get(clinic=None, code="soap")
    with pytest.raises(NotFound):
        services.retire_template(by=clinic_admin, template=shipped, reason="Ours instead.")
    with pytest.raises(DomainError):
        _create(clinic_admin, clinic, replaces=shipped)
    assert NoteTemplate.objects.filter(clinic__isnull=False).count() == 0


def test_the_page_starts_from_a_template_saves_and_re_renders_errors(clinic_admin: Any, clinic: Any) -> None:
    client = signed_in_client(clinic_admin)
    shipped = NoteTemplate.objects.get(clinic=None, code="soap")
    page = client.get(f"/notes/templates/?from={shipped.pk}").content.decode()
    assert "Shipped with the system" in page
    assert "SOAP" in page
    bad = client.post(
        "/notes/templates/",
        {"clinic": clinic.pk, "name": "X", "default_encounter_kind": "phone_call", "sections": ""},
    )
    assert bad.status_code == 422
    assert "This field is required" in bad.content.decode()
    saved = client.post(
        "/notes/templates/",
        {
            "clinic": clinic.pk,
            "name": "Phone check-in",
            "default_encounter_kind": "phone_call",
            "sections": LINES,
        },
    )
    assert saved.status_code == 302
    own = NoteTemplate.objects.get(clinic=clinic)
    version = client.get(f"/notes/templates/?from={own.pk}").content.decode()
    assert f'value="{own.pk}"' in version
    assert "New version of" in version
    empty_reason = client.post(f"/notes/templates/{own.pk}/retire/", {"reason": ""})
    assert empty_reason.status_code == 422
    assert client.post(f"/notes/templates/{own.pk}/retire/", {"reason": "Not used."}).status_code == 302
    assert "Retired" in client.get("/notes/templates/").content.decode()
