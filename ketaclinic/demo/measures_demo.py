"""Demo data for measures: Lena's falling PHQ-9 (a responder) and GAD-7, Walter's open item-9 alert, and a
questionnaire link waiting for Noah. Built through the measures services; a second call creates nothing."""

import datetime as dt

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.measures import services
from ketaclinic.measures.models import Administration, Context, InstrumentDefinition, MeasureRequest
from ketaclinic.patients.models import Patient

# Lena: PHQ-9 totals week by week from the assessment (baseline 18, response from week 4), and GAD-7.
LENA_PHQ9 = [
    (42, 18, Context.ASSESSMENT),
    (35, 16, Context.AD_HOC),
    (28, 13, Context.AD_HOC),
    (21, 10, Context.AD_HOC),
    (14, 8, Context.AD_HOC),
    (7, 6, Context.AD_HOC),
    (1, 4, Context.AD_HOC),
]
LENA_GAD7 = [(42, 14, Context.ASSESSMENT), (21, 9, Context.AD_HOC), (1, 6, Context.AD_HOC)]


def _spread(total: int, item_keys: list[str], highest: int) -> dict[str, int | None]:
    """Answers adding up to `total`, filling items in order (the suicide item is left at 0)."""
    answers: dict[str, int | None] = {}
    left = total
    for key in item_keys:
        answers[key] = min(highest, left)
        left -= answers[key] or 0
    return answers


def _instrument(key: str) -> InstrumentDefinition:
    return InstrumentDefinition.objects.filter(clinic__isnull=True, key=key).order_by("-version").get()


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    made = services.load_shipped_instruments()
    now = clock.now()
    phq9, gad7 = _instrument("phq9"), _instrument("gad7")
    lena, walter, noah = patients["lena"], patients["walter"], patients["noah"]
    if not Administration.objects.filter(patient=lena).exists():
        for days_ago, total, context in LENA_PHQ9:
            answers = _spread(total, [str(n) for n in range(1, 9)], 3) | {"9": 0, "difficulty": 1}
            services.record_administration(
                by=staff["nurse"],
                patient=lena,
                instrument=phq9,
                answers=answers,
                context=context,
                administered_at=now - dt.timedelta(days=days_ago, hours=2),
            )
            made += 1
        for days_ago, total, context in LENA_GAD7:
            services.record_administration(
                by=staff["nurse"],
                patient=lena,
                instrument=gad7,
                answers=_spread(total, [str(n) for n in range(1, 8)], 3),
                context=context,
                administered_at=now - dt.timedelta(days=days_ago, hours=2),
            )
            made += 1
    if not Administration.objects.filter(patient=walter).exists():
        services.record_administration(
            by=staff["nurse"],
            patient=walter,
            instrument=phq9,
            answers=_spread(15, [str(n) for n in range(1, 9)], 3) | {"9": 0},
            context=Context.ASSESSMENT,
            administered_at=now - dt.timedelta(days=9),
        )
        request = services.request_measure(
            by=staff["nurse"],
            patient=walter,
            instrument=phq9,
            context=Context.AD_HOC,
            due_at=now - dt.timedelta(days=1),
            send_email=False,
        )
        services.submit_request(
            token=services.token_for(request),
            answers=_spread(14, [str(n) for n in range(1, 9)], 3) | {"9": 1, "difficulty": 2},
        )
        made += 3
    if not MeasureRequest.objects.filter(patient=noah).exists():
        services.request_measure(
            by=staff["frontdesk"],
            patient=noah,
            instrument=phq9,
            context=Context.AD_HOC,
            due_at=now + dt.timedelta(days=2),
            send_email=True,
        )
        made += 1
    return made
