"""Helpers every app's views use with forms."""

from django.forms import BaseForm

from ketaclinic.core.errors import DomainError


def field_error(form: BaseForm, error: DomainError) -> None:
    """Show a domain error on its field when the form has that field, else at the top of the form: the form
    then re-renders with the person's input kept (DESIGN.md rule 4)."""
    form.add_error(error.field if error.field in form.fields else None, error.message)
