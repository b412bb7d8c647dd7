"""Errors of clinical documentation. Django-free."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, ErrorKind, PermissionDenied


class NoteErrorCode(StrEnum):
    NOTE_SIGNED = "note_signed"
    NOT_SIGNED = "note_not_signed"
    INCOMPLETE = "note_incomplete"
    NOT_AUTHOR = "not_author"
    COSIGNER_INVALID = "cosigner_invalid"
    ALREADY_COSIGNED = "already_cosigned"
    ALREADY_RELEASED = "already_released"
    NOT_PSYCHOTHERAPY = "not_psychotherapy_note"
    TEMPLATE_INVALID = "template_invalid"
    INVALID = "invalid"
    NO_AUTHORISATION = "no_release_authorisation"
    DOCUMENT_REFUSED = "document_refused"
    DOCUMENT_HELD = "document_held"
    ALREADY_REVOKED = "authorisation_already_revoked"
    SESSION_INVALID = "session_invalid"
    SESSION_DOCUMENTED = "session_already_documented"
    ALREADY_ON_CARE_TEAM = "already_on_care_team"
    CARE_TEAM_ENDED = "care_team_assignment_ended"
    CARE_TEAM_MEMBER_INVALID = "care_team_member_invalid"
    TEMPLATE_RETIRED = "template_retired"


class NoteError(DomainError):
    def __init__(self, code: NoteErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)


class NoteConflict(NoteError):
    kind = ErrorKind.CONFLICT


class NoteForbidden(PermissionDenied):
    """The person holds the permission but is not the one the note names (its author, its co-signer)."""

    def __init__(self, code: NoteErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
