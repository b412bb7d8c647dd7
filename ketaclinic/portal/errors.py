"""Error codes of the portal and the public site. Django-free."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError


class PortalError(StrEnum):
    INVITATION_INVALID = "invitation_invalid"
    USERNAME_TAKEN = "username_taken"
    PASSWORD_WEAK = "password_weak"
    ALREADY_LINKED = "already_linked"
    NO_GUARDIAN = "no_guardian"
    NO_EMAIL = "no_email"
    NOT_FOR_THIS_VIEW = "not_for_this_view"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_OPEN = "not_open"
    ALREADY_REQUESTED = "already_requested"
    ALREADY_HANDLED = "already_handled"
    TEXT_REQUIRED = "text_required"
    TEXT_TOO_LONG = "text_too_long"
    PAGE_UNCHANGED = "page_unchanged"
    UNSAFE_LINK = "unsafe_link"
    ALREADY_SIGNED = "already_signed"


class PortalDomainError(DomainError):
    """A portal request that cannot be carried out; `field` names the form field it belongs to."""
