"""The one JSON API: session auth (with CSRF) for pages, bearer tokens for integrations."""

from typing import Any

import ninja.openapi.schema
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.schema import NinjaGenerateJsonSchema
from ninja.security import HttpBearer, SessionAuth
from pydantic.json_schema import CoreModeRef, DefsRef

from ketaclinic.accounts import selectors as account_selectors
from ketaclinic.accounts import services as account_services
from ketaclinic.core.errors import DomainError
from ketaclinic.core.http import http_status


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer kc_...`, for integrations. Revoked tokens and inactive users are refused."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = account_selectors.user_for_token(token)
        if user is None:
            return None
        request.user = user
        request.api_token_auth = True  # type: ignore[attr-defined]
        account_services.touch_api_token(raw=token)
        return user


class VerifiedSessionAuth(SessionAuth):
    """Django's session (CSRF enforced by the cookie scheme), with the second factor where one is needed."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user and account_selectors.second_factor_needed(user) and not account_selectors.is_verified(user):
            return None
        return user


session_auth = VerifiedSessionAuth(csrf=True)


def _schema_classes(root: type) -> list[type]:
    found: list[type] = []
    sub: type
    for sub in root.__subclasses__():
        found.extend([sub, *_schema_classes(sub)])
    return found


class AppQualifiedComponents(NinjaGenerateJsonSchema):
    """OpenAPI component names that stay unique when two apps each have a schema class of one name (plans' and
    protocols' `VersionOut`, a dozen more): django-ninja keys components by class name and the later one
    silently replaced the earlier, so the document described one app's answers with another's schema (found
    by fuzzing the API against its own document). Such a class is named `<app>__<Class>`; others keep theirs.
    """

    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        defs_ref = super().get_defs_ref(core_mode_ref)
        module, _, name = core_mode_ref[0].rsplit(":", 1)[0].rpartition(".")
        if module.startswith("ketaclinic.") and name in _shared_class_names():
            choices = self._prioritized_defsref_choices[defs_ref]
            choices.insert(0, DefsRef(self.normalize_name(f"{module.split('.')[-2]}__{name}")))
        return defs_ref


def _shared_class_names() -> set[str]:
    seen: dict[str, set[str]] = {}
    for cls in _schema_classes(Schema):
        if cls.__module__.startswith("ketaclinic."):
            seen.setdefault(cls.__name__, set()).add(cls.__module__)
    return {name for name, modules in seen.items() if len(modules) > 1}


# The generator ninja's document builder uses (looked up in its module at each use).
ninja.openapi.schema.NinjaGenerateJsonSchema = AppQualifiedComponents  # type: ignore[attr-defined]

api = NinjaAPI(
    title="ketaclinic API",
    version="1",
    description="Patients and protocol data. Sign in (session) or send `Authorization: Bearer <token>`.",
    # The bearer token is tried first: a token call carries no CSRF cookie, and session auth would refuse it.
    auth=[ApiTokenAuth(), session_auth],
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.field:
        body["field"] = error.field
    return api.create_response(request, body, status=http_status(error))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    body = {"code": "invalid", "message": "The request is not valid.", "errors": error.errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # django-ninja's own refusals (a body that is not JSON, ...) in the shape every other refusal has.
    codes = {
        400: "bad_request",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        429: "throttled",
    }
    body = {"code": codes.get(error.status_code, "error"), "message": error.message}
    return api.create_response(request, body, status=error.status_code)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    body = {"code": "not_authenticated", "message": "Sign in, or send a valid API token."}
    return api.create_response(request, body, status=401)


def register_routers() -> None:
    from ketaclinic.billing.api import router as billing_router
    from ketaclinic.dosing.api import router as dosing_router
    from ketaclinic.infusions.api import router as infusions_router
    from ketaclinic.inventory.api import router as inventory_router
    from ketaclinic.measures.api import router as measures_router
    from ketaclinic.notes.api import router as notes_router
    from ketaclinic.patients.api import router as patients_router
    from ketaclinic.plans.api import router as plans_router
    from ketaclinic.portal.api import router as portal_router
    from ketaclinic.protocols.api import router as protocols_router
    from ketaclinic.scheduling.api import router as scheduling_router
    from ketaclinic.screening.api import router as screening_router

    api.add_router("/patients", patients_router)
    api.add_router("/protocol", protocols_router)
    api.add_router("/screening", screening_router)
    api.add_router("/measures", measures_router)
    api.add_router("/plans", plans_router)
    api.add_router("/schedule", scheduling_router)
    api.add_router("/inventory", inventory_router)
    api.add_router("/dosing", dosing_router)
    api.add_router("/infusions", infusions_router)
    api.add_router("/billing", billing_router)
    api.add_router("/notes", notes_router)
    api.add_router("/portal", portal_router)


register_routers()
