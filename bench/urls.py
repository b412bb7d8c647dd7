"""The benchmark server's URLconf: the clinic's own, plus the baseline stream `bench_live` compares with."""

from django.urls import path

from bench.stream_baseline import stream_baseline
from config.urls import handler404, handler500
from config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("infusions/stream-baseline/", stream_baseline, name="stream_baseline"),
    *site_urlpatterns,
]
