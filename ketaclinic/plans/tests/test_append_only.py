"""The database itself refuses to change or delete signed plan rows and the series log."""

import datetime as dt
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.core import clock
from ketaclinic.core.db import is_append_only_refusal
from ketaclinic.plans import services
from ketaclinic.plans.models import PlanEnd, PlanVersion, SeriesEvent, TreatmentPlan

pytestmark = pytest.mark.django_db


def _refused(run: Any) -> None:
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        run()
    assert is_append_only_refusal(raised.value)


def _sql(statement: str, table: str) -> Any:
    """Raw SQL straight to the database, past Django's own PROTECT checks."""

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement.format(table=table))

    return run


def test_signed_versions_refuse_update_and_delete(version: PlanVersion) -> None:
    _refused(lambda: PlanVersion.objects.filter(pk=version.pk).update(reason="Rewritten."))
    _refused(_sql("DELETE FROM {table}", PlanVersion._meta.db_table))
    _refused(lambda: TreatmentPlan.objects.filter(pk=version.plan_id).update(created_at=clock.now()))
    assert PlanVersion.objects.get(pk=version.pk).reason == "New treatment plan."


def test_the_series_log_and_the_end_refuse_update_and_delete(
    clinician: Any, front_desk: Any, version: PlanVersion
) -> None:
    patient = version.plan.patient
    services.note_infusion_booked(
        by=front_desk, patient=patient, appointment_id=7, starts_at=clock.now() + dt.timedelta(days=1)
    )
    _refused(lambda: SeriesEvent.objects.update(kind="attended"))
    _refused(lambda: SeriesEvent.objects.all().delete())
    services.end_plan(by=clinician, plan=version.plan, reason="Finished.")
    _refused(lambda: PlanEnd.objects.update(reason="Other."))
    _refused(lambda: PlanEnd.objects.all().delete())
