"""The notes app's routes: notes pages, the chart timeline and the notes API. The world gets a therapist's
draft, a signed progress note, a note awaiting Dr Chen's co-signature and a psychotherapy note kept apart."""

import datetime as dt
from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from ketaclinic.accounts.roles import Role
from tests.authz.routes import api, get, ids, post
from tests.authz.world import World

PATIENT = ids("patient_id")
DRAFT = ids(note_id="notes_draft_id")
SIGNED = ids(note_id="notes_signed_id")
TO_COSIGN = ids(note_id="notes_to_cosign_id")
PRIVATE = ids(note_id="notes_private_id")
# Holding the permission is not enough to change another person's draft: the author alone edits and signs.
NOT_AUTHOR_FORM = {Role.CLINICIAN: 403, Role.NURSE: 403}
NOT_AUTHOR = {Role.CLINICIAN: 403, Role.NURSE: 403}


def _draft_form(world: World) -> dict[str, Any]:
    return {
        "encounter_on": world.ids["notes_today"].isoformat(),
        "section_experience": "Recalled warmth.",
        "section_meaning": "Less alone.",
        "section_changes": "Sleeping better.",
        "section_plan": "Next week.",
        "session_length_min": "50",
        "modality": "individual",
        "themes": "sleep",
        "risk_level": "low",
        "risk_note": "",
    }


def _new_note(world: World) -> dict[str, Any]:
    return {
        "template": world.ids["notes_soap_template_id"],
        "encounter_kind": "follow_up",
        "encounter_on": world.ids["notes_today"].isoformat(),
        "kind": "progress",
    }


def _document(world: World) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "file": SimpleUploadedFile("ecg.png", PNG),
        "document_type": "ecg",
        "document_date": world.ids["notes_today"].isoformat(),
        "source": "Cardiology",
        "title": "ECG",
    }


def _template_form(world: World) -> dict[str, Any]:
    return {
        "clinic": world.main.pk,
        "name": "Phone check-in",
        "description": "",
        "default_encounter_kind": "phone_call",
        "sections": "Reason for the call: what the patient asked\nAdvice given",
    }


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
AUTHORISATION = {
    "recipient": "Dr Lee Park",
    "scope": "letters",
    "purpose": "Continuity of care",
    "signed_by": "patient",
    "signer_name": "Elena Marsh",
    "signed_on": "2026-01-05",
    "expires_on": "2099-01-05",
}

ROUTES = {
    "notes:letters": [get(P.VIEW_NOTES, args=PATIENT)],
    "notes:letter_new": [
        post(
            P.SEND_LETTERS,
            args=PATIENT,
            body=lambda w: {
                "kind": "series_summary",
                "recipient_name": "Dr Lee Park",
                "recipient_address": "",
            },
        )
    ],
    "notes:authorisation_new": [
        post(P.RECORD_RELEASE_AUTHORISATION, args=PATIENT, body=lambda w: AUTHORISATION)
    ],
    "notes:authorisation_revoke": [
        post(
            P.RECORD_RELEASE_AUTHORISATION,
            args=ids(authorisation_id="notes_authorisation_id"),
            body=lambda w: {
                "revoked_on": w.ids["notes_today"].isoformat(),
                "reason": "Phoned to withdraw it.",
            },
        )
    ],
    "notes:documents": [
        get(P.VIEW_NOTES, P.FILE_DOCUMENTS, args=PATIENT),
        post(P.FILE_DOCUMENTS, args=PATIENT, body=_document),
    ],
    "notes:document": [get(P.VIEW_NOTES, args=ids(document_id="notes_document_id"))],
    "notes:letter": [
        get(P.VIEW_NOTES, args=ids(letter_id="notes_signed_letter_id")),
        post(
            P.SEND_LETTERS,
            args=ids(letter_id="notes_draft_letter_id"),
            body=lambda w: {"recipient_name": "Dr Park", "subject": "Summary", "body": "Dear Dr Park,"},
        ),
    ],
    "notes:letter_pdf": [get(P.VIEW_NOTES, args=ids(letter_id="notes_signed_letter_id"))],
    "notes:letter_send": [
        post(
            P.SEND_LETTERS,
            args=ids(letter_id="notes_signed_letter_id"),
            body=lambda w: {"sent_to": "Elena Marsh", "method": "handed", "authorisation": ""},
        )
    ],
    "notes:search": [get(P.VIEW_NOTES, scoped=False, query=lambda w: {"q": "grief"})],
    "notes:templates": [
        get(P.MANAGE_NOTE_TEMPLATES, scoped=False),
        # Another clinic's admin may not choose this clinic: the form re-renders (nothing written).
        post(P.MANAGE_NOTE_TEMPLATES, body=_template_form, other_clinic_status=422),
    ],
    "notes:template_retire": [
        post(
            P.MANAGE_NOTE_TEMPLATES,
            args=ids(template_id="notes_clinic_template_id"),
            body=lambda w: {"reason": "Replaced by the new intake."},
        )
    ],
    "notes:care_team": [
        get(P.VIEW_PATIENT, args=PATIENT),
        post(
            P.MANAGE_CARE_TEAM,
            args=PATIENT,
            body=lambda w: {"member": w.ids["notes_joinable_id"], "responsibility": "Infusion nurse"},
        ),
    ],
    "notes:care_team_end": [
        post(
            P.MANAGE_CARE_TEAM,
            args=ids(assignment_id="notes_assignment_id"),
            body=lambda w: {"reason": "Therapy completed."},
        )
    ],
    # The session's therapist, or whoever books visits (clinician, nurse), marks a begun session attended.
    "notes:session_attended": [
        post(P.VIEW_NOTES, args=ids(appointment_id="notes_session_id"), body=lambda w: {})
    ],
    "notes:patient": [get(P.VIEW_NOTES, args=PATIENT)],
    "notes:timeline": [get(P.VIEW_NOTES, args=PATIENT)],
    "notes:new": [post(P.WRITE_NOTES, args=PATIENT, body=_new_note)],
    "notes:note": [
        get(P.VIEW_NOTES, args=DRAFT),
        post(P.WRITE_NOTES, args=DRAFT, body=_draft_form, also_refused=NOT_AUTHOR_FORM),
    ],
    "notes:autosave": [
        post(P.WRITE_NOTES, args=DRAFT, body=_draft_form, ok=200, also_refused=NOT_AUTHOR),
    ],
    "notes:sign": [post(P.WRITE_NOTES, args=DRAFT, body=_draft_form, also_refused=NOT_AUTHOR_FORM)],
    "notes:addendum": [post(P.WRITE_NOTES, args=SIGNED, body=lambda w: {"text": "Phoned back."})],
    "notes:cosign": [
        post(P.COSIGN_NOTES, args=TO_COSIGN, body=lambda w: {}, also_refused={Role.THERAPIST: 403})
    ],
    # Kept apart: only its author sees it, so a clinician holding the permission finds nothing.
    "notes:release": [
        post(
            P.WRITE_PSYCHOTHERAPY_NOTES,
            args=PRIVATE,
            body=lambda w: {"reason": "For the letter."},
            also_refused={Role.CLINICIAN: 404},
        )
    ],
    "GET /api/notes/patients/{patient_id}": [api("GET", P.VIEW_NOTES, args=PATIENT)],
    "POST /api/notes/patients/{patient_id}": [
        api(
            "POST",
            P.WRITE_NOTES,
            ok=201,
            args=PATIENT,
            body=lambda w: {
                "template_id": w.ids["notes_soap_template_id"],
                "encounter_kind": "follow_up",
                "encounter_on": w.ids["notes_today"].isoformat(),
            },
        )
    ],
    "GET /api/notes/patients/{patient_id}/authorisations": [
        api("GET", P.VIEW_NOTES, P.RECORD_RELEASE_AUTHORISATION, args=PATIENT)
    ],
    "POST /api/notes/authorisations/{authorisation_id}/revoke": [
        api(
            "POST",
            P.RECORD_RELEASE_AUTHORISATION,
            args=ids(authorisation_id="notes_authorisation_id"),
            body=lambda w: {"revoked_on": w.ids["notes_today"].isoformat(), "reason": "Withdrawn by phone."},
        )
    ],
    "GET /api/notes/patients/{patient_id}/care-team": [api("GET", P.VIEW_PATIENT, args=PATIENT)],
    "POST /api/notes/patients/{patient_id}/care-team": [
        api(
            "POST",
            P.MANAGE_CARE_TEAM,
            ok=201,
            args=PATIENT,
            body=lambda w: {"member_id": w.ids["notes_joinable_id"], "responsibility": "Infusion nurse"},
        )
    ],
    "POST /api/notes/care-team/{assignment_id}/end": [
        api(
            "POST",
            P.MANAGE_CARE_TEAM,
            args=ids(assignment_id="notes_assignment_id"),
            body=lambda w: {"reason": "Therapy completed."},
        )
    ],
    "GET /api/notes/templates": [api("GET", P.MANAGE_NOTE_TEMPLATES, scoped=False)],
    "POST /api/notes/templates": [
        api(
            "POST",
            P.MANAGE_NOTE_TEMPLATES,
            ok=201,
            body=lambda w: {
                "clinic_id": w.main.pk,
                "name": "Phone check-in",
                "sections": "Reason for the call: what the patient asked\nAdvice given",
                "default_encounter_kind": "phone_call",
            },
        )
    ],
    "POST /api/notes/templates/{template_id}/retire": [
        api(
            "POST",
            P.MANAGE_NOTE_TEMPLATES,
            args=ids(template_id="notes_clinic_template_id"),
            body=lambda w: {"reason": "Replaced by the new intake."},
        )
    ],
    "GET /api/notes/{note_id}": [api("GET", P.VIEW_NOTES, args=SIGNED)],
    "PUT /api/notes/{note_id}": [
        api(
            "PUT",
            P.WRITE_NOTES,
            args=DRAFT,
            body=lambda w: {"sections": {"experience": "Recalled warmth."}, "risk_level": "low"},
            also_refused=NOT_AUTHOR,
        )
    ],
    "POST /api/notes/{note_id}/sign": [
        api(
            "POST",
            P.WRITE_NOTES,
            args=ids(note_id="notes_complete_draft_id"),
            body=lambda w: {},
            also_refused=NOT_AUTHOR,
        )
    ],
    "POST /api/notes/{note_id}/addenda": [
        api("POST", P.WRITE_NOTES, ok=201, args=SIGNED, body=lambda w: {"text": "Phoned back."})
    ],
}


def extend_world(world: World) -> None:
    from ketaclinic.core import clock
    from ketaclinic.notes.models import NoteTemplate
    from ketaclinic.notes.services import notes as services

    therapist, drchen = world.user("therapist"), world.user("drchen")
    lena = world.patients["elena"]
    today = clock.today_in(lena.clinic.time_zone)
    integration = NoteTemplate.objects.get(clinic=None, code="kap-integration")

    def note(kind: str = "progress") -> Any:
        return services.create_note(
            by=therapist,
            patient=lena,
            template=integration,
            encounter_kind="psychotherapy_session",
            encounter_on=today,
            kind=kind,
        )

    content = services.NoteContent(
        sections={
            "experience": "Warm.",
            "meaning": "Less alone.",
            "changes": "Sleeping.",
            "plan": "Next week.",
        },
        session_length_min=50,
        modality="individual",
        risk_level="low",
    )

    def signed(kind: str = "progress", cosigner: Any = None) -> Any:
        row = note(kind)
        services.save_draft(by=therapist, note=row, content=content)
        return services.sign_note(by=therapist, note=row, cosigner=cosigner)

    from ketaclinic.notes.selectors.letters import letter_facts
    from ketaclinic.notes.services import documents, letters

    def letter() -> Any:
        return letters.draft_letter(
            by=drchen,
            patient=lena,
            kind="series_summary",
            recipient_name="Dr Lee Park",
            recipient_address="",
            facts=letter_facts(viewer=drchen, patient=lena),
        )

    document = documents.file_document(
        by=world.user("nurse"),
        patient=lena,
        content=PNG,
        original_name="ecg.png",
        document_type="ecg",
        document_date=today,
        source="Cardiology",
        title="ECG",
    )
    complete = note()
    services.save_draft(by=therapist, note=complete, content=content)
    # A psychotherapy session with the therapist that began an hour ago (the booking services refuse the
    # past, so the row is laid down as it stands an hour after it was booked).
    from ketaclinic.notes.services import templates as template_services
    from ketaclinic.patients.models import CareTeamMember
    from ketaclinic.scheduling.models import Appointment

    began = clock.now() - dt.timedelta(hours=1)
    session = Appointment.objects.create(
        patient=lena,
        clinic=lena.clinic,
        kind="psychotherapy",
        clinician=therapist,
        starts_at=began,
        ends_at=began + dt.timedelta(minutes=50),
        booked_by=drchen,
        booked_at=began - dt.timedelta(days=2),
    )
    world.ids.update(
        {
            "notes_today": today,
            "notes_soap_template_id": NoteTemplate.objects.get(clinic=None, code="soap").pk,
            "notes_draft_id": note().pk,
            "notes_complete_draft_id": complete.pk,
            "notes_signed_id": signed().pk,
            "notes_to_cosign_id": signed(cosigner=drchen).pk,
            "notes_private_id": signed("psychotherapy").pk,
            "notes_draft_letter_id": letter().pk,
            "notes_signed_letter_id": letters.sign_letter(by=drchen, letter=letter()).pk,
            "notes_document_id": document.pk,
            "notes_session_id": session.pk,
            "notes_clinic_template_id": template_services.create_template(
                by=world.user("admin"),
                clinic_id=lena.clinic_id,
                name="Intake call",
                description="",
                sections_text="Presenting concern\nPlan",
                session_fields=False,
                default_encounter_kind="phone_call",
            ).pk,
            "notes_joinable_id": world.user("nurse").pk,
            "notes_assignment_id": CareTeamMember.objects.get(
                patient=lena, member=therapist, ended_at__isnull=True
            ).pk,
            "notes_authorisation_id": letters.record_authorisation(
                by=drchen,
                patient=lena,
                recipient="Dr Lee Park",
                scope="letters",
                signed_by="patient",
                signer_name="Elena Marsh",
                signed_on=today,
                expires_on=today + dt.timedelta(days=365),
            ).pk,
        }
    )
