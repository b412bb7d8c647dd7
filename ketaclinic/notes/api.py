"""Notes over JSON: the same permissions, caseload scoping and audit as the pages. A psychotherapy note is
never here unless its author released it (rules.note_visible with Channel.API), not even for its author."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.access import require, require_any
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.api import api_user
from ketaclinic.core.errors import NotFound
from ketaclinic.notes.models import Note, NoteTemplate, ReleaseAuthorisation
from ketaclinic.notes.rules import Channel
from ketaclinic.notes.schemas import (
    AddendumIn,
    AddendumOut,
    AuthorisationOut,
    CareTeamEndIn,
    CareTeamIn,
    CareTeamMemberOut,
    DraftIn,
    NoteIn,
    NoteOut,
    RetireTemplateIn,
    RevokeIn,
    SignIn,
    TemplateIn,
    TemplateOut,
)
from ketaclinic.notes.selectors import care_team as care_team_selectors
from ketaclinic.notes.selectors import letters as letter_selectors
from ketaclinic.notes.selectors import notes as selectors
from ketaclinic.notes.services import care_team as care_team_services
from ketaclinic.notes.services import letters as letter_services
from ketaclinic.notes.services import notes as services
from ketaclinic.notes.services import templates as template_services
from ketaclinic.patients.models import CareTeamMember
from ketaclinic.patients.selectors import patient_for

router = Router(tags=["notes"])


def _out(note: Note) -> dict[str, Any]:
    cosignature = getattr(note, "cosignature", None)
    return {
        "id": note.pk,
        "patient_id": note.patient_id,
        "kind": note.kind,
        "encounter_kind": note.encounter_kind,
        "encounter_on": note.encounter_on,
        "template": note.template.name,
        "author_id": note.author_id,
        "sections": note.sections,
        "session_length_min": note.session_length_min,
        "modality": note.modality,
        "themes": note.themes,
        "risk_level": note.risk_level,
        "risk_note": note.risk_note,
        "signed_at": note.signed_at,
        "cosigner_id": note.cosigner_id,
        "cosigned_at": cosignature.cosigned_at if cosignature is not None else None,
        "addenda": [
            {"id": a.pk, "author_id": a.author_id, "written_at": a.written_at, "text": a.text}
            for a in note.addenda.all()
        ],
    }


def _authorisation_out(row: ReleaseAuthorisation) -> dict[str, Any]:
    revocation = getattr(row, "revocation", None)
    return {
        "id": row.pk,
        "patient_id": row.patient_id,
        "recipient": row.recipient,
        "scope": row.scope,
        "purpose": row.purpose,
        "signed_by": row.signed_by,
        "signer_name": row.signer_name,
        "signed_on": row.signed_on,
        "expires_on": row.expires_on,
        "recorded_at": row.recorded_at,
        "revoked": revocation is not None,
        "revocation": None
        if revocation is None
        else {
            "revoked_on": revocation.revoked_on,
            "reason": revocation.reason,
            "recorded_by_id": revocation.recorded_by_id,
            "recorded_at": revocation.recorded_at,
        },
    }


@router.get(
    "/patients/{patient_id}/authorisations",
    response=list[AuthorisationOut],
    summary="A patient's release authorisations, with their revocations",
)
def patient_authorisations(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    user = api_user(request)
    require_any(user, Perm.VIEW_NOTES, Perm.RECORD_RELEASE_AUTHORISATION)  # before the patient
    patient = patient_for(viewer=user, patient_id=patient_id, audit_as=ObjectType.LETTERS)
    return [
        _authorisation_out(row) for row in letter_selectors.authorisations_for(viewer=user, patient=patient)
    ]


@router.post(
    "/authorisations/{authorisation_id}/revoke",
    response=AuthorisationOut,
    summary="Record that the patient withdrew a release authorisation",
)
def revoke_authorisation(request: HttpRequest, authorisation_id: int, payload: RevokeIn) -> dict[str, Any]:
    user = api_user(request)
    require(user, Perm.RECORD_RELEASE_AUTHORISATION)  # the permission before the row (403, then 404)
    row = letter_selectors.authorisation_in_reach(viewer=user, authorisation_id=authorisation_id)
    letter_services.revoke_authorisation(
        by=user, authorisation=row, revoked_on=payload.revoked_on, reason=payload.reason
    )
    return _authorisation_out(ReleaseAuthorisation.objects.select_related("revocation").get(pk=row.pk))


@router.get("/patients/{patient_id}", response=list[NoteOut], summary="A patient's notes")
def patient_notes(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    user = api_user(request)
    selectors.visible_notes(viewer=user)  # the permission before the patient (403, then 404)
    patient = patient_for(viewer=user, patient_id=patient_id, audit_as=ObjectType.NOTES)
    return [_out(note) for note in selectors.patient_notes(viewer=user, patient=patient, channel=Channel.API)]


@router.post("/patients/{patient_id}", response={201: NoteOut}, summary="Start a note (a draft)")
def create(request: HttpRequest, patient_id: int, payload: NoteIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    selectors.templates_for(viewer=user, clinic_id=0)  # the permission before the patient
    patient = patient_for(viewer=user, patient_id=patient_id, audit_as=ObjectType.NOTES)
    template = selectors.template_for(
        viewer=user, clinic_id=patient.clinic_id, template_id=payload.template_id
    )
    note = services.create_note(
        by=user,
        patient=patient,
        template=template,
        encounter_kind=payload.encounter_kind,
        encounter_on=payload.encounter_on,
        kind=payload.kind,
    )
    return Status(201, _out(note))


def _template_out(row: NoteTemplate) -> dict[str, Any]:
    return {
        "id": row.pk,
        "clinic_id": row.clinic_id,
        "code": row.code,
        "name": row.name,
        "description": row.description,
        "sections": row.sections,
        "session_fields": row.session_fields,
        "default_encounter_kind": row.default_encounter_kind,
        "active": row.active,
        "replaces_id": row.replaces_id,
        "retired_at": row.retired_at,
        "retired_by_id": row.retired_by_id,
        "retire_reason": row.retire_reason,
    }


@router.get("/templates", response=list[TemplateOut], summary="Shipped and the clinics' note templates")
def templates(request: HttpRequest) -> list[dict[str, Any]]:
    return [_template_out(row) for row in selectors.clinic_templates(viewer=api_user(request))]


@router.post(
    "/templates",
    response={201: TemplateOut},
    summary="Create a clinic's template (with replaces_id: a new version, the old one retired)",
)
def create_template(request: HttpRequest, payload: TemplateIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    require(user, Perm.MANAGE_NOTE_TEMPLATES)
    replaces = (
        selectors.managed_template(viewer=user, template_id=payload.replaces_id)
        if payload.replaces_id is not None
        else None
    )
    row = template_services.create_template(
        by=user,
        clinic_id=payload.clinic_id,
        name=payload.name,
        description=payload.description,
        sections_text=payload.sections,
        session_fields=payload.session_fields,
        default_encounter_kind=payload.default_encounter_kind,
        replaces=replaces,
    )
    return Status(201, _template_out(row))


@router.post("/templates/{template_id}/retire", response=TemplateOut, summary="Retire a clinic's template")
def retire_template(request: HttpRequest, template_id: int, payload: RetireTemplateIn) -> dict[str, Any]:
    user = api_user(request)
    require(user, Perm.MANAGE_NOTE_TEMPLATES)
    row = selectors.managed_template(viewer=user, template_id=template_id)
    return _template_out(template_services.retire_template(by=user, template=row, reason=payload.reason))


@router.get("/{note_id}", response=NoteOut, summary="One note")
def read(request: HttpRequest, note_id: int) -> dict[str, Any]:
    return _out(selectors.note_for(viewer=api_user(request), note_id=note_id, channel=Channel.API))


@router.put("/{note_id}", response=NoteOut, summary="Save a draft")
def save(request: HttpRequest, note_id: int, payload: DraftIn) -> dict[str, Any]:
    user = api_user(request)
    note = selectors.note_for(viewer=user, note_id=note_id, channel=Channel.API)
    content = services.NoteContent(**payload.model_dump())
    return _out(services.save_draft(by=user, note=note, content=content))


@router.post("/{note_id}/sign", response=NoteOut, summary="Sign a draft (locks it)")
def sign(request: HttpRequest, note_id: int, payload: SignIn) -> dict[str, Any]:
    user = api_user(request)
    note = selectors.note_for(viewer=user, note_id=note_id, channel=Channel.API)
    cosigner = None
    if payload.cosigner_id is not None:
        cosigner = User.objects.filter(pk=payload.cosigner_id).first()
        if cosigner is None:
            raise NotFound("No such co-signer.")
    return _out(services.sign_note(by=user, note=note, cosigner=cosigner))


@router.post("/{note_id}/addenda", response={201: AddendumOut}, summary="Add an addendum to a signed note")
def addendum(request: HttpRequest, note_id: int, payload: AddendumIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    note = selectors.note_for(viewer=user, note_id=note_id, channel=Channel.API)
    row = services.add_addendum(by=user, note=note, text=payload.text)
    return Status(
        201, {"id": row.pk, "author_id": row.author_id, "written_at": row.written_at, "text": row.text}
    )


def _member_out(row: CareTeamMember) -> dict[str, Any]:
    end = getattr(row, "end_record", None)
    return {
        "id": row.pk,
        "patient_id": row.patient_id,
        "member_id": row.member_id,
        "member_name": row.member.get_full_name(),
        "member_role": row.member.role,
        "responsibility": row.responsibility,
        "added_at": row.added_at,
        "added_by_id": row.added_by_id,
        "ended_at": row.ended_at,
        "ended_by_id": end.ended_by_id if end is not None else None,
        "end_reason": end.reason if end is not None else "",
    }


@router.get(
    "/patients/{patient_id}/care-team",
    response=list[CareTeamMemberOut],
    summary="A patient's care team, current and ended assignments",
)
def patient_care_team(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    user = api_user(request)
    require(user, Perm.VIEW_PATIENT)
    patient = patient_for(viewer=user, patient_id=patient_id, audit_as=ObjectType.CARE_TEAM_MEMBER)
    team = care_team_selectors.care_team(viewer=user, patient=patient)
    return [_member_out(row) for row in team.current + team.ended]


@router.post(
    "/patients/{patient_id}/care-team",
    response={201: CareTeamMemberOut},
    summary="Add a therapist or clinician to the patient's care team",
)
def add_care_team_member(
    request: HttpRequest, patient_id: int, payload: CareTeamIn
) -> Status[dict[str, Any]]:
    user = api_user(request)
    require(user, Perm.MANAGE_CARE_TEAM)  # the permission before the patient
    patient = patient_for(viewer=user, patient_id=patient_id, audit_as=ObjectType.CARE_TEAM_MEMBER)
    member = User.objects.filter(pk=payload.member_id, clinics=patient.clinic_id).first()
    if member is None:
        raise NotFound("No such staff member at this clinic.")
    row = care_team_services.add_to_care_team(
        by=user, patient=patient, member=member, responsibility=payload.responsibility
    )
    return Status(201, _member_out(row))


@router.post(
    "/care-team/{assignment_id}/end",
    response=CareTeamMemberOut,
    summary="End a care-team assignment, with a reason",
)
def end_care_team_assignment(
    request: HttpRequest, assignment_id: int, payload: CareTeamEndIn
) -> dict[str, Any]:
    user = api_user(request)
    require(user, Perm.MANAGE_CARE_TEAM)
    row = care_team_selectors.assignment_for(viewer=user, assignment_id=assignment_id)
    care_team_services.end_care_team_assignment(by=user, assignment=row, reason=payload.reason)
    ended = CareTeamMember.objects.select_related("member", "end_record").get(pk=row.pk)
    return _member_out(ended)
