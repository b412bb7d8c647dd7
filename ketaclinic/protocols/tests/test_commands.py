"""`manage.py load_protocol`."""

from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.tests.shipped import SHIPPED_COUNT

pytestmark = pytest.mark.django_db


def test_load_protocol_loads_the_defaults_once() -> None:
    first, second = StringIO(), StringIO()
    call_command("load_protocol", stdout=first)
    call_command("load_protocol", stdout=second)
    assert first.getvalue() == f"Loaded {SHIPPED_COUNT} protocol default(s).\n"
    assert second.getvalue() == "Protocol defaults already loaded; nothing changed.\n"
    assert ProtocolParameter.objects.count() == SHIPPED_COUNT


def test_load_protocol_reports_a_broken_file_as_a_command_error(tmp_path: Path) -> None:
    broken = tmp_path / "protocol_defaults.json"
    broken.write_text("{", encoding="utf-8")
    with (
        mock.patch("ketaclinic.protocols.services.DEFAULTS_PATH", broken),
        pytest.raises(CommandError) as caught,
    ):
        call_command("load_protocol")
    assert str(caught.value).startswith("Cannot read protocol_defaults.json:")
    assert ProtocolParameter.objects.count() == 0
