from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ketaclinic.audit import context


def client_address(request: HttpRequest) -> str | None:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (granian --respect-proxy-headers); we do not
    # trust X-Forwarded-For ourselves, since any client can write it.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = context.Channel.API if request.path.startswith("/api/") else context.Channel.PAGE
        token = context.set_current(
            context.RequestContext(
                ip_address=client_address(request),
                channel=channel,
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            context.reset(token)
