from django.forms import BaseForm

from ketaclinic.core.errors import DomainError


def field_error(form: BaseForm, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)
