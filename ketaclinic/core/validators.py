"""The limits of ketaclinic.core.inputs as Django form validators, so pages refuse what the API refuses."""

import datetime as dt

from django.core.exceptions import ValidationError

from ketaclinic.core import inputs


def validate_text(value: str) -> None:
    problem = inputs.text_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="control_characters")


def validate_record_date(value: dt.date) -> None:
    problem = inputs.date_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="implausible_date")


def validate_birth_date(value: dt.date) -> None:
    problem = inputs.date_problem(value, earliest=inputs.EARLIEST_BIRTH_DATE)
    if problem is not None:
        raise ValidationError(problem, code="implausible_date")
