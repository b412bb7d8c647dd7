"""Clinic reports: outcome rates by diagnosis and by comorbidity, as a page and as CSV."""

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.analytics import selectors
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.core.spreadsheet import Echo, safe_cell
from ketaclinic.measures.rules.outcomes import GroupRates

EXPORT_HEADER = [
    "instrument",
    "grouping",
    "group",
    "with_baseline",
    "with_follow_up",
    "no_follow_up",
    "responders",
    "response_percent",
    "remitters",
    "remission_percent",
    "response_rule",
    "remission_rule",
]


def _guard(request: HttpRequest) -> None:
    if not can(request.user, Perm.VIEW_OUTCOMES):
        raise PermissionDenied()


@require_GET
@login_required
def outcomes(request: HttpRequest) -> HttpResponse:
    _guard(request)
    context = {
        "results": selectors.outcomes_by_diagnosis(viewer=request.user),
        "funnel": selectors.induction_funnel(viewer=request.user),
    }
    return render(request, "analytics/outcomes.html", context)


def _row(instrument: selectors.InstrumentBreakdown, grouping: str, entry: GroupRates) -> list[object]:
    rates = entry.rates
    return [
        instrument.short_name,
        grouping,
        entry.label,
        rates.with_baseline,
        rates.with_follow_up,
        rates.no_follow_up,
        rates.responders,
        rates.response_percent,
        rates.remitters,
        rates.remission_percent,
        instrument.response_rule,
        instrument.remission_rule,
    ]


@require_GET
@login_required
def outcomes_export(request: HttpRequest) -> StreamingHttpResponse:
    _guard(request)
    results = selectors.outcomes_by_diagnosis(viewer=request.user)

    def rows() -> Iterator[str]:
        writer = csv.writer(Echo())
        yield writer.writerow(EXPORT_HEADER)
        for instrument in results:
            for grouping, entries in (
                ("diagnosis", instrument.by_diagnosis),
                ("comorbidity", instrument.by_comorbidity),
            ):
                for entry in entries:
                    yield writer.writerow([safe_cell(cell) for cell in _row(instrument, grouping, entry)])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = clock.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="outcomes-by-diagnosis-{stamp}.csv"'
    return response
