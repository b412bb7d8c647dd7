"""The protocol API: list, read one value, its history, and record a new version.

Authentication is the project's (session with CSRF, or a bearer token); access is decided by the selectors and
the service, and domain errors become 4xx JSON with a code through config.api's handler.
"""

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from ketaclinic.protocols import selectors, services
from ketaclinic.protocols.models import ProtocolParameter, ProtocolValue
from ketaclinic.protocols.rules import Population
from ketaclinic.protocols.schemas import ChangeIn, ErrorOut, ParameterOut, ReadingOut, VersionOut

router = Router(tags=["protocol"])

_ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _viewer(request: HttpRequest) -> Any:
    # ninja sets `auth` to what the authenticator returned (the user); HttpRequest's type does not declare it.
    return getattr(request, "auth", None)


class PopulationQuery(Schema):
    population: Population = Population.ALL


class ListQuery(Schema):
    category: str = ""
    q: str = ""


def _version_out(parameter: ProtocolParameter, version: ProtocolValue, previous: int | None) -> VersionOut:
    return VersionOut(
        value_id=version.pk,
        key=parameter.key,
        population=parameter.population,
        version=version.version,
        value=version.value,
        unit=parameter.unit,
        verified=version.verified,
        source=version.source,
        reason=version.reason,
        changed_by=version.changed_by.get_username() if version.changed_by else None,
        changed_at=version.changed_at,
        corrects_version=previous,
    )


@router.get("/", response={200: list[ParameterOut], **_ERRORS})
def list_parameters(request: HttpRequest, filters: Query[ListQuery]) -> Any:
    """Every protocol entry with its current value; `category` and `q` narrow the list."""
    rows = selectors.parameters_for(viewer=_viewer(request), category=filters.category, search=filters.q)
    return [ParameterOut(**asdict(row)) for row in rows]


@router.get("/{key}", response={200: ReadingOut, **_ERRORS})
def read_value(request: HttpRequest, key: str, query: Query[PopulationQuery]) -> Any:
    """The current value of `key` for `population`, falling back to the entry for all patients."""
    reading = selectors.reading_for(viewer=_viewer(request), key=key, population=query.population)
    return ReadingOut(
        key=reading.key,
        population=reading.population,
        value_kind=reading.value_kind,
        value=reading.text,
        unit=reading.unit,
        version=reading.version,
        value_id=reading.value_id,
        verified=reading.verified,
        source=reading.source,
    )


@router.get("/{key}/history", response={200: list[VersionOut], **_ERRORS})
def value_history(request: HttpRequest, key: str, query: Query[PopulationQuery]) -> Any:
    """Every version of `key` for exactly `population` (no fallback), newest first."""
    history = selectors.history_by_key(viewer=_viewer(request), key=key, population=query.population)
    numbers = {version.pk: version.version for version in history.versions}
    return [
        _version_out(history.parameter, version, numbers.get(version.corrects_id or 0))
        for version in history.versions
    ]


@router.post("/{key}/versions", response={201: VersionOut, **_ERRORS})
def change_value(request: HttpRequest, key: str, payload: ChangeIn) -> Any:
    """Record a new version of `key` for `population`; `reason` is required and kept in the history."""
    parameter = selectors.parameter_by_key(viewer=_viewer(request), key=key, population=payload.population)
    new = services.change_protocol_value(
        by=_viewer(request),
        parameter=parameter,
        value=payload.value,
        source=payload.source,
        reason=payload.reason,
        verified=payload.verified,
    )
    previous = new.corrects.version if new.corrects else None
    return Status(201, _version_out(parameter, new, previous))
