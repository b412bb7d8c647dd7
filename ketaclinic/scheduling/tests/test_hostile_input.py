"""A clinic parameter that is not an id shows the viewer's own clinic, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["²", "1" * 5000, str(2**63), "-1"])
@pytest.mark.parametrize("url", ["/schedule/", "/schedule/week/"])
def test_a_clinic_that_is_not_an_id_shows_the_viewers_clinic(client_for, front_desk, open_clinic, url, raw):
    response = client_for(front_desk).get(url, {"clinic": raw})
    assert response.status_code == 200
    shown = response.context.get("clinic") or response.context["schedule"].clinic
    assert shown == open_clinic
