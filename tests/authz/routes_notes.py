"""The notes app's routes: notes pages, the chart timeline and the notes API. The world gets a therapist's
draft, a signed progress note, a note awaiting Dr Chen's co-signature and a psychotherapy note kept apart."""

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


ROUTES = {
    "notes:search": [get(P.VIEW_NOTES, scoped=False, query=lambda w: {"q": "grief"})],
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

    complete = note()
    services.save_draft(by=therapist, note=complete, content=content)
    world.ids.update(
        {
            "notes_today": today,
            "notes_soap_template_id": NoteTemplate.objects.get(clinic=None, code="soap").pk,
            "notes_draft_id": note().pk,
            "notes_complete_draft_id": complete.pk,
            "notes_signed_id": signed().pk,
            "notes_to_cosign_id": signed(cosigner=drchen).pk,
            "notes_private_id": signed("psychotherapy").pk,
        }
    )
