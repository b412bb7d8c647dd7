"""Session safety: idle sessions end after the clinic's limit; roles that need a second factor must use it."""

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from ketaclinic.accounts import selectors
from ketaclinic.accounts.sessions import LAST_SEEN_KEY, LAST_SEEN_REFRESH, TIME_ZONE_KEY, UNITS_KEY
from ketaclinic.core import clock, units


class ClinicTimeZoneMiddleware:
    """Show times in the signed-in person's clinic zone; the database keeps UTC.

    The zone is looked up once per session (it changes only when a clinic's zone does, which a clinic admin
    does rarely; signing in again picks it up).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone_name = "UTC"
        if request.user.is_authenticated:
            cached = request.session.get(TIME_ZONE_KEY) if hasattr(request, "session") else None
            zone_name = cached or selectors.display_time_zone_for(request.user)
            if not cached and hasattr(request, "session"):
                request.session[TIME_ZONE_KEY] = zone_name
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        # The clinic's units for weight and height, looked up like the zone, once per session.
        system = "metric"
        if request.user.is_authenticated:
            cached_units = request.session.get(UNITS_KEY) if hasattr(request, "session") else None
            system = cached_units or selectors.display_units_for(request.user)
            if not cached_units and hasattr(request, "session"):
                request.session[UNITS_KEY] = system
        token = units.activate(system if system in set(units.UnitSystem) else "metric")
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            units.reset(token)


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not getattr(request, "api_token_auth", False):
            limit_min = selectors.idle_session_timeout_min()
            now = clock.now()
            last_seen_raw = request.session.get(LAST_SEEN_KEY)
            # Sign-in notes the activity; a session signed in another way (or before that) counts from the
            # person's last sign-in, so the first request after it never passes however long it waited.
            last_login = getattr(request.user, "last_login", None)
            last_seen = dt.datetime.fromisoformat(last_seen_raw) if last_seen_raw is not None else last_login
            idle = None
            if last_seen is not None:
                idle = now - last_seen
                if idle > dt.timedelta(minutes=limit_min):
                    logout(request)
                    messages.info(request, f"You were signed out after {limit_min} minutes without activity.")
                    if request.path.startswith("/api/"):
                        return JsonResponse(
                            {"code": "session_expired", "message": "The session ended; sign in again."},
                            status=401,
                        )
                    return redirect(f"{reverse('accounts:login')}?next={request.path}")
            if last_seen_raw is None or idle is None or idle >= LAST_SEEN_REFRESH:
                request.session[LAST_SEEN_KEY] = now.isoformat()
                request.session.set_expiry(limit_min * 60)
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and the rest of Django's never-cache headers) on every response that is not
    a static file: pages and API answers carry patient data, and neither a shared cache nor the browser's
    back button may keep them. Static files are answered before this middleware, with their own headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


# Paths a signed-in person may reach before passing the second factor.
_OPEN_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/verify/",
    "/accounts/enrol/",
    "/accounts/reset/",
    "/static/",
    "/favicon.ico",
)


class RequireSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and not selectors.is_verified(user)
            and selectors.second_factor_needed(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "second_factor_required", "message": "Complete two-factor sign-in first."},
                    status=403,
                )
            target = "accounts:verify" if selectors.has_confirmed_device(user) else "accounts:enrol"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)
