from django.forms import BaseForm
from django.http import HttpRequest

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import DomainError, PermissionDenied


def field_error(form: BaseForm, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        raise PermissionDenied()
