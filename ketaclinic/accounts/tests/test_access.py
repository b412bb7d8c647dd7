"""The one access check: permission first (403), then the clinic (404)."""

import pytest

from ketaclinic.accounts.access import require, require_any, require_clinic, require_in_clinic
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.core.models import Clinic

pytestmark = pytest.mark.django_db


def test_require_passes_a_held_permission_and_refuses_others(clinician: User, nurse: User) -> None:
    require(clinician, Perm.PRESCRIBE)
    with pytest.raises(PermissionDenied):
        require(nurse, Perm.PRESCRIBE)
    with pytest.raises(PermissionDenied):
        require(None, Perm.VIEW_PATIENT)


def test_require_any_needs_one_of_them(nurse: User) -> None:
    require_any(nurse, Perm.PRESCRIBE, Perm.VIEW_PATIENT)
    with pytest.raises(PermissionDenied):
        require_any(nurse, Perm.PRESCRIBE)


def test_another_clinic_is_not_found_after_the_permission(
    clinician: User, outsider: User, nurse: User, clinic: Clinic
) -> None:
    require_clinic(clinician, clinic.pk)
    with pytest.raises(NotFound):
        require_clinic(outsider, clinic.pk, what="patient")
    with pytest.raises(NotFound):
        require_in_clinic(outsider, Perm.PRESCRIBE, clinic.pk)
    with pytest.raises(PermissionDenied):
        require_in_clinic(nurse, Perm.PRESCRIBE, clinic.pk)
