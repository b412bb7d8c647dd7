"""Plain helpers shared by the audit tests."""

import datetime as dt
from typing import Any
from unittest import mock

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.services import record_read

MOMENT = dt.datetime(2026, 3, 14, 9, 30, 0, tzinfo=dt.UTC)


def read_at(moment: dt.datetime, **fields: Any) -> AuditEvent:
    """`record_read` as if called at `moment`."""
    with mock.patch("ketaclinic.core.clock.now", return_value=moment):
        return record_read(**fields)
