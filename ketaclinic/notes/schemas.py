"""JSON shapes of the notes API."""

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from ketaclinic.core.inputs import DbId, Note, RecordDate, Text


class NoteIn(Schema):
    template_id: DbId
    encounter_kind: Annotated[str, Field(max_length=30)]
    encounter_on: RecordDate
    kind: Annotated[str, Field(max_length=20)] = "progress"


class DraftIn(Schema):
    sections: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=20_000)]]
    encounter_on: RecordDate | None = None
    session_length_min: Annotated[int, Field(ge=1, le=600)] | None = None
    modality: Annotated[str, Field(max_length=20)] = ""
    themes: Annotated[Text, Field(max_length=300)] = ""
    risk_level: Annotated[str, Field(max_length=20)] = "not_assessed"
    risk_note: Note = ""


class SignIn(Schema):
    cosigner_id: DbId | None = None


class AddendumIn(Schema):
    text: Note


class AddendumOut(Schema):
    id: int
    author_id: int
    written_at: dt.datetime
    text: str


class NoteOut(Schema):
    id: int
    patient_id: int
    kind: str
    encounter_kind: str
    encounter_on: dt.date
    template: str
    author_id: int
    sections: dict[str, str]
    session_length_min: int | None
    modality: str
    themes: str
    risk_level: str
    risk_note: str
    signed_at: dt.datetime | None
    cosigner_id: int | None
    cosigned_at: dt.datetime | None
    addenda: list[AddendumOut]


class RevocationOut(Schema):
    revoked_on: dt.date
    reason: str
    recorded_by_id: int
    recorded_at: dt.datetime


class AuthorisationOut(Schema):
    id: int
    patient_id: int
    recipient: str
    scope: str
    purpose: str
    signed_by: str
    signer_name: str
    signed_on: dt.date
    expires_on: dt.date
    recorded_at: dt.datetime
    revoked: bool
    revocation: RevocationOut | None


class RevokeIn(Schema):
    revoked_on: RecordDate
    reason: Note


class CareTeamIn(Schema):
    member_id: DbId
    responsibility: Annotated[Text, Field(max_length=100)] = ""


class CareTeamEndIn(Schema):
    reason: Note


class CareTeamMemberOut(Schema):
    id: int
    patient_id: int
    member_id: int
    member_name: str
    member_role: str
    responsibility: str
    added_at: dt.datetime
    added_by_id: int
    ended_at: dt.datetime | None
    ended_by_id: int | None
    end_reason: str


class TemplateIn(Schema):
    clinic_id: DbId
    name: Annotated[Text, Field(max_length=100)]
    description: Annotated[Text, Field(max_length=200)] = ""
    sections: Annotated[str, Field(max_length=6000)]
    session_fields: bool = False
    default_encounter_kind: Annotated[str, Field(max_length=30)]
    replaces_id: DbId | None = None


class RetireTemplateIn(Schema):
    reason: Note


class TemplateOut(Schema):
    id: int
    clinic_id: int | None
    code: str
    name: str
    description: str
    sections: list[dict[str, object]]
    session_fields: bool
    default_encounter_kind: str
    active: bool
    replaces_id: int | None
    retired_at: dt.datetime | None
    retired_by_id: int | None
    retire_reason: str
