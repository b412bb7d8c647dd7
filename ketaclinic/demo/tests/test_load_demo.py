import pytest

from ketaclinic.demo.services import APP_LOADERS, load_demo

pytestmark = pytest.mark.django_db


def test_the_whole_demo_loads_every_app_and_a_second_run_creates_nothing(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = load_demo()
    assert first["patients"] == 5
    assert all(first[name] > 0 for name, _loader in APP_LOADERS)
    with django_capture_on_commit_callbacks(execute=True):
        second = load_demo()
    assert set(second.values()) == {0}
