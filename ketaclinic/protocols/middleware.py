"""Each request reads a protocol entry from the database once (see `protocols.selectors.readings_cached`)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ketaclinic.protocols.selectors import readings_cached


class ProtocolReadingsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A streamed response (the chair's live events) is consumed after this returns, uncached: a stream
        # that runs for hours must see a value edited meanwhile.
        with readings_cached():
            return self.get_response(request)
