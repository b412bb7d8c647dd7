"""A `corrects` parameter that is not an id opens the plain form, never a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["²", "1" * 5000, str(2**63)])
def test_a_corrects_value_that_is_not_an_id_opens_a_new_entry(client_for, nurse, patient, instruments, raw):
    url = reverse("measures:record", args=[patient.pk, instruments["phq9"].pk])
    response = client_for(nurse).get(url, {"corrects": raw})
    assert response.status_code == 200
