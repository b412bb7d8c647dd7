"""The FHIR endpoints: read, search, Patient/$everything and the CapabilityStatement. Each parses its input,
calls one selector and answers `application/fhir+json`; every error is an OperationOutcome with its status
(400 bad search, 401 no credentials, 403 no permission, 404 unknown or another clinic's)."""

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from pydantic import ValidationError

from ketaclinic.accounts import selectors as account_selectors
from ketaclinic.accounts import services as account_services
from ketaclinic.accounts.access import Actor
from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.core.http import http_status
from ketaclinic.interop.fhir import selectors
from ketaclinic.interop.fhir.capability import capability_statement
from ketaclinic.interop.fhir.errors import BadSearch, NotAuthenticated, UnknownType
from ketaclinic.interop.fhir.everything import Cursor, EverythingPage
from ketaclinic.interop.fhir.everything import everything as everything_page
from ketaclinic.interop.fhir.params import parse_search
from ketaclinic.interop.fhir.resources.common import Resource, instant, validated

logger = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json; charset=utf-8"
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found"}


def respond(body: Resource, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body), content_type=FHIR_JSON, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ketaclinic FHIR"'
    return response


def operation_outcome(status: int, message: str, code: str) -> HttpResponse:
    issue = {
        "severity": "error",
        "code": ISSUE_CODES.get(status, "exception"),
        "details": {"text": code},
        "diagnostics": message,
    }
    return respond(validated({"resourceType": "OperationOutcome", "issue": [issue]}), status)


type View = Callable[..., HttpResponse]


def fhir_view(view: View) -> View:
    """GET only; domain errors become OperationOutcomes; a resource that fails validation is our fault
    (500), logged and never sent."""

    @require_GET
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return operation_outcome(http_status(error), error.message, error.code)
        except ValidationError:
            logger.exception("A FHIR resource failed validation and was not sent")
            return operation_outcome(500, "A resource could not be built valid; it was not sent.", "invalid")

    return wrapped


def fhir_actor(request: HttpRequest) -> Actor:
    """The caller: a bearer token's account (tried first: a token call carries no session), or the signed-in
    person. NotAuthenticated (401) otherwise."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        raw = header.removeprefix("Bearer ").strip()
        user = account_selectors.user_for_token(raw)
        if user is None:
            raise NotAuthenticated()
        account_services.touch_api_token(raw=raw)
        return user
    if isinstance(request.user, User) and request.user.is_authenticated:
        return request.user
    raise NotAuthenticated()


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir").rstrip("/")


def _check_type(resource_type: str) -> None:
    if resource_type not in selectors.TYPE_PERMS:
        raise UnknownType(resource_type)


def _bundle(request: HttpRequest, page: selectors.Page) -> Resource:
    base = _base(request)
    search = page.search

    def link(relation: str, offset: int) -> Resource:
        query = {key: values for key, values in request.GET.lists() if key != "_offset"}
        query["_count"] = [str(search.count)]
        query["_offset"] = [str(offset)]
        return {
            "relation": relation,
            "url": f"{base}{request.path.removeprefix('/fhir')}?{urlencode(query, doseq=True)}",
        }

    links = [link("self", search.offset)]
    if search.count and search.offset + search.count < page.total:
        links.append(link("next", search.offset + search.count))
    if search.offset > 0:
        links.append(link("previous", max(0, search.offset - search.count)))
    shell = validated(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": instant(clock.now()),
            "total": page.total,
            "link": links,
        }
    )
    # Each resource was validated on its own; the envelope is validated without them (not a second time).
    shell["entry"] = [
        {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in page.resources
    ]
    if not shell["entry"]:
        del shell["entry"]
    return shell


@fhir_view
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: public, as FHIR clients read it before they authenticate."""
    statement = capability_statement(
        base_url=_base(request),
        software_version=getattr(settings, "KETACLINIC_VERSION", "1"),
        date=clock.now().date().isoformat(),
    )
    return respond(validated(statement))


@fhir_view
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    viewer = fhir_actor(request)
    _check_type(resource_type)
    selectors.require_read(viewer, resource_type)
    parsed = parse_search(resource_type, dict(request.GET.lists()))
    return respond(_bundle(request, selectors.search_resources(viewer=viewer, search=parsed)))


@fhir_view
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    viewer = fhir_actor(request)
    _check_type(resource_type)
    return respond(
        selectors.read_resource(viewer=viewer, resource_type=resource_type, resource_id=resource_id)
    )


@fhir_view
def everything(request: HttpRequest, patient_id: int) -> HttpResponse:
    """`Patient/{id}/$everything`: `_count` resources a page (default 50, at most 500), the next page by the
    `_page` cursor of the next link; each page reads only its own rows."""
    viewer = fhir_actor(request)
    selectors.require_read(viewer, "Patient")
    unknown = sorted(set(request.GET) - {"_count", "_page"})
    if unknown:
        raise BadSearch(
            f"$everything takes only _count and _page, not {', '.join(unknown)}.", parameter=unknown[0]
        )
    count = parse_search(
        "Patient", {"_count": request.GET.getlist("_count")} if "_count" in request.GET else {}
    )
    cursor = Cursor.parse(request.GET.get("_page"))
    page = everything_page(viewer=viewer, patient_id=patient_id, count=count.count, cursor=cursor)
    return respond(_everything_bundle(request, page))


def _everything_bundle(request: HttpRequest, page: EverythingPage) -> Resource:
    base = _base(request)

    def link(relation: str, cursor: Cursor) -> Resource:
        query = {"_count": str(page.count)} | ({"_page": str(cursor)} if cursor != Cursor() else {})
        return {"relation": relation, "url": f"{base}{request.path.removeprefix('/fhir')}?{urlencode(query)}"}

    links = [link("self", page.cursor)]
    if page.next is not None:
        links.append(link("next", page.next))
    shell = validated(
        {"resourceType": "Bundle", "type": "searchset", "timestamp": instant(clock.now()), "link": links}
    )
    entries = [(resource, "match") for resource in page.resources]
    entries += [(resource, "include") for resource in page.included]
    shell["entry"] = [
        {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": mode},
        }
        for resource, mode in entries
    ]
    if not shell["entry"]:
        del shell["entry"]
    return shell
