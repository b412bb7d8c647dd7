"""The clinic admin's audit page and its CSV export."""

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import ROLE_LABELS, Role
from ketaclinic.audit import selectors
from ketaclinic.audit.context import Channel
from ketaclinic.audit.forms import AuditFilterForm
from ketaclinic.audit.models import Action, AuditEvent, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.core.spreadsheet import Echo, safe_cell

PAGE_SIZE = 50

EXPORT_HEADER = [
    "occurred_at_utc",
    "username",
    "name",
    "role",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "patient_record_number",
    "summary",
    "ip_address",
    "channel",
    "user_agent",
]


@dataclass(frozen=True)
class AuditRow:
    """One entry as the page shows it; `collapsed` > 1 when it stands for a run of a device's writes (the
    earliest of them is `first_at`)."""

    occurred_at: dt.datetime
    actor_name: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    summary: str
    patient_record_number: str
    ip_address: str
    channel: str
    what: str = ""
    collapsed: int = 1
    first_at: dt.datetime | None = None


CHANNEL_LABELS = {
    Channel.PAGE: "Page",
    Channel.API: "API",
    Channel.EXPORT: "Export",
    Channel.SYSTEM: "System",
}


def _what(object_type: str) -> str:
    """'controlled_drug_entry' -> 'Controlled drug entry': the kind of record in words, not a table name."""
    return object_type.replace("_", " ").capitalize()


def _actor_name(event: AuditEvent) -> str:
    return event.actor.display_name if event.actor is not None else ""


def _role_label(role: str) -> str:
    return ROLE_LABELS[Role(role)] if role in Role._value2member_map_ else role


def _row(event: AuditEvent) -> AuditRow:
    return AuditRow(
        occurred_at=event.occurred_at,
        actor_name=_actor_name(event) or event.actor_username,
        actor_role=_role_label(event.actor_role),
        action=event.get_action_display(),
        object_type=event.object_type,
        object_id=event.object_id,
        summary=event.summary,
        patient_record_number=event.patient_record_number,
        ip_address=event.ip_address or "",
        channel=CHANNEL_LABELS.get(event.channel, event.channel.capitalize()),
        what=_what(event.object_type),
    )


# Integration accounts write many small entries (a reading a minute); the page folds their runs.
DEVICE_ROLES = {Role.MONITOR_GATEWAY.value}


def collapse_device_writes(events: Iterable[AuditEvent]) -> list[AuditRow]:
    """Page rows, newest first, with each run of consecutive writes by one device (a bedside monitor posts
    a reading every minute or so) folded into one row saying how many and over what time."""
    rows: list[AuditRow] = []
    run: list[AuditEvent] = []

    def flush() -> None:
        if not run:
            return
        if len(run) == 1:
            rows.append(_row(run[0]))
        else:
            rows.append(
                replace(
                    _row(run[0]),
                    summary=f"{len(run)} writes by this device",
                    object_id="",
                    collapsed=len(run),
                    first_at=run[-1].occurred_at,
                )
            )
        run.clear()

    for event in events:
        is_device = event.actor_role in DEVICE_ROLES
        same = run and (event.actor_id, event.object_type, event.patient_id) == (
            run[0].actor_id,
            run[0].object_type,
            run[0].patient_id,
        )
        if is_device and (not run or same):
            run.append(event)
            continue
        flush()
        if is_device:
            run.append(event)
        else:
            rows.append(_row(event))
    flush()
    return rows


def _guard(request: HttpRequest) -> None:
    # Checked before the form, so someone without the permission gets 403 whatever they typed.
    if not can(request.user, Perm.VIEW_AUDIT):
        raise PermissionDenied()


def _render_list(request: HttpRequest, form: AuditFilterForm) -> HttpResponse:
    context: dict[str, object] = {
        "show_devices": request.GET.get("devices") == "each",
        "form": form,
        "filters_valid": form.is_valid(),
        "page_obj": None,
        "rows": [],
    }
    if form.is_valid():
        filters = form.filters()
        events = selectors.audit_events_for(viewer=request.user, **filters, zone=_zone())
        page_obj = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        context["page_obj"] = page_obj
        context["rows"] = (
            [_row(event) for event in page_obj]
            if context["show_devices"]
            else collapse_device_writes(page_obj)
        )
        # Who looked at the log, and for whom, is itself worth knowing (written after the rows are read, so
        # a view never lists itself).
        shown = ", ".join(f"{name}={value}" for name, value in filters.items() if value)
        record_read(
            by=request.user,
            action=Action.SEARCH if shown else Action.LIST,
            object_type=ObjectType.AUDIT_LOG,
            summary=f"page {page_obj.number}" + (f"; {shown}" if shown else ""),
            channel=Channel.PAGE,
        )
    return render(request, "audit/list.html", context)


@never_cache
@require_GET
@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    _guard(request)
    return _render_list(request, AuditFilterForm(request.GET, record_example=_record_example(request)))


def _zone() -> str:
    """The clinic's zone the request runs in (activated by the accounts middleware), for whole-day filters."""
    return timezone.get_current_timezone_name()


def _record_example(request: HttpRequest) -> str:
    """A real record number from the viewer's own log, so the search hint shows the format in use."""
    return (
        selectors.audit_events_for(viewer=request.user)
        .exclude(patient_record_number="")
        .values_list("patient_record_number", flat=True)
        .first()
        or ""
    )


def _export_cells(event: AuditEvent) -> list[object]:
    return [
        event.occurred_at.astimezone(dt.UTC).isoformat(),
        event.actor_username,
        _actor_name(event),
        event.actor_role,
        event.action,
        event.object_type,
        event.object_id,
        event.patient_id,
        event.patient_record_number,
        event.summary,
        event.ip_address,
        event.channel,
        event.user_agent,
    ]


def _csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(EXPORT_HEADER)
    for event in events:
        yield writer.writerow([safe_cell(cell) for cell in _export_cells(event)])


@never_cache
@require_GET
@login_required
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The filtered entries as CSV. The export is itself audited, before a single row leaves."""
    _guard(request)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _render_list(request, form)
    events = selectors.audit_events_for(viewer=request.user, **form.filters(), zone=_zone())
    export_entry = record_read(
        by=request.user,
        action=Action.EXPORT,
        object_type=ObjectType.AUDIT_LOG,
        patient_record_number=form.cleaned_data["patient_record_number"],
        summary=form.summary(),
        channel=Channel.EXPORT,
    )
    # The file shows the log as it stood when asked for, so it leaves out the entry for its own export.
    rows = events.exclude(pk=export_entry.pk).iterator(chunk_size=2000)
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    filename = f"audit-log-{clock.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
