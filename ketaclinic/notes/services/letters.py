"""Letters and releases of information: an authorisation recorded from the signed form, a letter drafted from
the record, edited, signed (then locked), rendered as PDF and sent; each sending is a row naming the
recipient, the method, the authorisation it relied on and the SHA-256 of the PDF sent."""

import datetime as dt
import hashlib

from django.db import transaction

from ketaclinic.accounts.access import Actor, require
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.inputs import clean_reason, text_problem
from ketaclinic.notes import rules
from ketaclinic.notes.errors import NoteConflict, NoteError, NoteErrorCode, NoteForbidden
from ketaclinic.notes.models import (
    AuthorisationRevocation,
    AuthorisationScope,
    AuthorisationSigner,
    DispatchMethod,
    Letter,
    LetterDispatch,
    LetterKind,
    ReleaseAuthorisation,
)
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_for

BODY_MAX_CHARS = 20_000


def _check_patient(by: Actor, patient: Patient) -> None:
    if not patients_for(viewer=by).filter(pk=patient.pk).exists():
        raise NotFound("No such patient in your clinics.")


def _text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    text = value.replace("\r\n", "\n").strip()
    if required and not text:
        raise NoteError(NoteErrorCode.INVALID, "This field is required.", field=field)
    if len(text) > limit:
        raise NoteError(NoteErrorCode.INVALID, f"At most {limit} characters.", field=field)
    if problem := text_problem(text):
        raise NoteError(NoteErrorCode.INVALID, problem, field=field)
    return text


@transaction.atomic
def record_authorisation(
    *,
    by: Actor,
    patient: Patient,
    recipient: str,
    scope: str,
    signed_by: str,
    signer_name: str,
    signed_on: dt.date,
    expires_on: dt.date,
    purpose: str = "",
) -> ReleaseAuthorisation:
    """Record the patient's (or guardian's) signed authorisation to release information to `recipient`."""
    require(by, Perm.RECORD_RELEASE_AUTHORISATION)
    _check_patient(by, patient)
    if scope not in AuthorisationScope.values:
        raise NoteError(NoteErrorCode.INVALID, "Choose what it covers.", field="scope")
    if signed_by not in AuthorisationSigner.values:
        raise NoteError(NoteErrorCode.INVALID, "Choose who signed it.", field="signed_by")
    today = clock.today_in(patient.clinic.time_zone)
    if signed_on > today:
        raise NoteError(NoteErrorCode.INVALID, "The form cannot be signed in the future.", field="signed_on")
    if expires_on <= signed_on:
        raise NoteError(NoteErrorCode.INVALID, "It must expire after it was signed.", field="expires_on")
    row = ReleaseAuthorisation.objects.create(
        patient=patient,
        recipient=_text(recipient, field="recipient", limit=200),
        scope=scope,
        purpose=_text(purpose, field="purpose", limit=200, required=False),
        signed_by=signed_by,
        signer_name=_text(signer_name, field="signer_name", limit=150),
        signed_on=signed_on,
        expires_on=expires_on,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.RELEASE_AUTHORISATION,
        object_id=row.pk,
        summary=f"release authorisation recorded for {row.recipient} until {expires_on:%Y-%m-%d}",
    )
    return row


@transaction.atomic
def revoke_authorisation(
    *, by: Actor, authorisation: ReleaseAuthorisation, revoked_on: dt.date, reason: str
) -> AuthorisationRevocation:
    """Record that the patient (or guardian) withdrew `authorisation` on `revoked_on`: a new row, the
    authorisation itself unchanged; from then on it permits no release."""
    require(by, Perm.RECORD_RELEASE_AUTHORISATION)
    authorisation = (
        ReleaseAuthorisation.objects.select_for_update()
        .select_related("patient__clinic")
        .get(pk=authorisation.pk)
    )
    patient = authorisation.patient
    _check_patient(by, patient)
    if AuthorisationRevocation.objects.filter(authorisation=authorisation).exists():
        raise NoteConflict(NoteErrorCode.ALREADY_REVOKED, "This authorisation is already revoked.")
    text = clean_reason(reason, what="Say why it was withdrawn (as the patient put it).")
    if revoked_on > clock.today_in(patient.clinic.time_zone):
        raise NoteError(NoteErrorCode.INVALID, "It cannot be withdrawn in the future.", field="revoked_on")
    if revoked_on < authorisation.signed_on:
        raise NoteError(
            NoteErrorCode.INVALID, "It cannot be withdrawn before it was signed.", field="revoked_on"
        )
    row = AuthorisationRevocation.objects.create(
        authorisation=authorisation,
        revoked_on=revoked_on,
        reason=text,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.UPDATE,
        object_type=ObjectType.RELEASE_AUTHORISATION,
        object_id=authorisation.pk,
        summary=f"release authorisation for {authorisation.recipient} revoked on {revoked_on:%Y-%m-%d}",
    )
    return row


def _audit(
    by: Actor, letter: Letter, action: str, object_type: ObjectType, object_id: object, summary: str
) -> None:
    record_patient_change(
        by=by,
        patient=letter.patient,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
    )


@transaction.atomic
def draft_letter(
    *,
    by: Actor,
    patient: Patient,
    kind: str,
    recipient_name: str,
    recipient_address: str,
    facts: rules.LetterFacts,
) -> Letter:
    """A new draft letter of `kind`, its subject and body written from `facts` (selectors' letter_facts)."""
    require(by, Perm.SEND_LETTERS)
    _check_patient(by, patient)
    if kind not in LetterKind.values:
        raise NoteError(NoteErrorCode.INVALID, "Choose the kind of letter.", field="kind")
    subject, body = rules.letter_draft(kind, facts)
    now = clock.now()
    letter = Letter.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        kind=kind,
        recipient_name=_text(recipient_name, field="recipient_name", limit=200),
        recipient_address=_text(recipient_address, field="recipient_address", limit=1000, required=False),
        subject=subject[:200],
        body=body,
        include_outcome_graph=kind == LetterKind.SERIES_SUMMARY,
        author=by,
        created_at=now,
        updated_at=now,
    )
    _audit(by, letter, Action.CREATE, ObjectType.LETTER, letter.pk, f"{letter.get_kind_display()} drafted")
    return letter


@transaction.atomic
def edit_letter(
    *,
    by: Actor,
    letter: Letter,
    recipient_name: str,
    recipient_address: str,
    subject: str,
    body: str,
    include_outcome_graph: bool,
) -> Letter:
    """The draft with its new text (its author only; a signed letter is refused)."""
    require(by, Perm.SEND_LETTERS)
    letter = Letter.objects.select_for_update().select_related("patient").get(pk=letter.pk)
    if letter.author_id != by.pk:
        raise NoteForbidden(NoteErrorCode.NOT_AUTHOR, "Only the letter's author can edit it.")
    if letter.is_signed:
        raise NoteConflict(NoteErrorCode.NOTE_SIGNED, "The letter is signed: write a new one instead.")
    letter.recipient_name = _text(recipient_name, field="recipient_name", limit=200)
    letter.recipient_address = _text(recipient_address, field="recipient_address", limit=1000, required=False)
    letter.subject = _text(subject, field="subject", limit=200)
    letter.body = _text(body, field="body", limit=BODY_MAX_CHARS)
    letter.include_outcome_graph = include_outcome_graph
    letter.updated_at = clock.now()
    letter.save()
    _audit(by, letter, Action.UPDATE, ObjectType.LETTER, letter.pk, "letter draft edited")
    return letter


@transaction.atomic
def sign_letter(*, by: Actor, letter: Letter) -> Letter:
    """Sign the author's draft; the database then refuses changes."""
    require(by, Perm.SEND_LETTERS)
    letter = Letter.objects.select_for_update().select_related("patient").get(pk=letter.pk)
    if letter.author_id != by.pk:
        raise NoteForbidden(NoteErrorCode.NOT_AUTHOR, "Only the letter's author can sign it.")
    if letter.is_signed:
        raise NoteConflict(NoteErrorCode.NOTE_SIGNED, "The letter is already signed.")
    letter.signed_at = clock.now()
    letter.save(update_fields=["signed_at"])
    _audit(by, letter, Action.UPDATE, ObjectType.LETTER, letter.pk, "letter signed")
    return letter


@transaction.atomic
def send_letter(
    *,
    by: Actor,
    letter: Letter,
    sent_to: str,
    method: str,
    pdf: bytes,
    authorisation: ReleaseAuthorisation | None,
) -> LetterDispatch:
    """Record that the signed letter (as the PDF `pdf`) went to `sent_to`. A letter to anyone but the patient
    needs the patient's authorisation on file, current and covering letters."""
    require(by, Perm.SEND_LETTERS)
    if not letter.is_signed:
        raise NoteConflict(NoteErrorCode.NOT_SIGNED, "Sign the letter before sending it.")
    if method not in DispatchMethod.values:
        raise NoteError(NoteErrorCode.INVALID, "Choose how it was sent.", field="method")
    recipient = _text(sent_to, field="sent_to", limit=200)
    if method != DispatchMethod.HANDED:
        today = clock.today_in(letter.patient.clinic.time_zone).isoformat()
        if (
            authorisation is None
            or authorisation.patient_id != letter.patient_id
            or AuthorisationRevocation.objects.filter(authorisation=authorisation).exists()
            or not rules.authorisation_covers(
                scope=authorisation.scope,
                signed_on=authorisation.signed_on.isoformat(),
                expires_on=authorisation.expires_on.isoformat(),
                today=today,
                letter=True,
            )
        ):
            raise NoteError(
                NoteErrorCode.NO_AUTHORISATION,
                "Sending to anyone but the patient needs their current authorisation on file.",
                field="authorisation",
            )
    row = LetterDispatch.objects.create(
        letter=letter,
        sent_to=recipient,
        method=method,
        authorisation=authorisation if method != DispatchMethod.HANDED else None,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        sent_by=by,
        sent_at=clock.now(),
    )
    _audit(
        by,
        letter,
        Action.EXPORT,
        ObjectType.LETTER_DISPATCH,
        row.pk,
        f"letter sent to {recipient} ({method})",
    )
    return row
