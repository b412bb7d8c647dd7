"""Where the current request came from, so services can audit without being handed the request."""

import contextvars
from dataclasses import dataclass


class Channel:
    PAGE = "page"
    API = "api"
    EXPORT = "export"
    SYSTEM = "system"


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    channel: str = Channel.SYSTEM
    user_agent: str = ""


# RequestContext is a frozen dataclass, so one shared default instance cannot be changed by anyone.
_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "ketaclinic_request_context",
    default=RequestContext(),  # noqa: B039
)


def current() -> RequestContext:
    return _current.get()


def set_current(context: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(context)


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
