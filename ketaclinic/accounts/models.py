"""People who sign in: staff with a role and their clinics; patients and guardians for the portal."""

from django.contrib.auth.models import AbstractUser
from django.db import models

from ketaclinic.accounts.roles import (
    INTEGRATION_ROLES,
    ROLE_LABELS,
    ROLES_REQUIRING_SECOND_FACTOR,
    STAFF_ROLES,
    Role,
)
from ketaclinic.core.models import Clinic
from ketaclinic.core.tokens import new_token

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    clinics = models.ManyToManyField(Clinic, blank=True, related_name="members")
    credentials = models.CharField(max_length=40, blank=True, help_text="For example MD, NP, RN.")
    phone = models.CharField(max_length=40, blank=True)
    # A clinician's own National Provider Identifier: the rendering provider on a superbill (the clinic's
    # NPI stands in, with a note, when a clinician has none). Checked with its check digit.
    npi = models.CharField("NPI", max_length=10, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]

    @property
    def role_enum(self) -> Role | None:
        return Role(self.role) if self.role in Role._value2member_map_ else None

    @property
    def role_label(self) -> str:
        role = self.role_enum
        return ROLE_LABELS[role] if role else "No role"

    @property
    def is_clinic_staff(self) -> bool:
        return self.role_enum in STAFF_ROLES

    @property
    def is_integration(self) -> bool:
        """An integration account (a monitor gateway): acts only through API tokens, never signs in."""
        return self.role_enum in INTEGRATION_ROLES

    @property
    def requires_second_factor(self) -> bool:
        return self.role_enum in ROLES_REQUIRING_SECOND_FACTOR

    @property
    def display_name(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name


def new_token_value() -> str:
    """An API token's value: `kc_` (so a leaked one is recognisable) and a one-time token."""
    return "kc_" + new_token()


class ApiToken(models.Model):
    """A bearer token: a person's own (made by them after their second factor) or an integration account's
    (made by a clinic admin). Only its hash is stored; the value is shown once, at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses this token, for example 'lab interface'.")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
