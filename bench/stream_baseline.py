"""The live benchmark's baseline: a trivial event stream through the same server and middleware as the chair
streams, served only by the benchmark's own URLconf (`bench/urls.py`), never by the clinic's.

`bench_live` measures the chair stream's latency against this one's under the same load."""

import asyncio
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase

from ketaclinic.infusions.views.sse import refusal_for, sse_event, stream_response

INTERVAL_S = 0.1


async def ticks() -> AsyncIterator[str]:
    while True:
        yield sse_event("tick", f"{time.time():.6f}")
        await asyncio.sleep(INTERVAL_S)


async def stream_baseline(request: HttpRequest) -> HttpResponseBase:
    """Event `tick` with the server's Unix time every 100 ms, to a signed-in viewer of the chairs (the chair
    streams' own check, so both streams pay for the same access check)."""
    refusal = await sync_to_async(refusal_for)(request)
    if refusal is not None:
        return refusal
    return stream_response(ticks())
