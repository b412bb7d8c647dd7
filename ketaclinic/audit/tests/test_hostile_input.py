"""The audit page's dates: a year 9999 (or 1) re-renders the form with an error, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_an_implausible_date_re_renders_the_form(client_for, clinic_admin, url, field, value) -> None:
    response = client_for(clinic_admin).get(url, {field: value})
    assert response.status_code == 200
    assert response.context["filters_valid"] is False
    assert response.context["form"].errors[field][0].startswith("The date must be on or")
