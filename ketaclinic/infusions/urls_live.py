"""The live screens' addresses, relative to the infusions prefix (`/infusions/`); the app's urls.py adds
these to its own urlpatterns. The baseline stream exists only in development and under the benchmark."""

from django.urls import URLPattern, path

from ketaclinic.infusions.views import live

urlpatterns: list[URLPattern] = [
    path("board/", live.board, name="board"),
    path("board/stream/", live.board_stream, name="board_stream"),
    path("visits/<int:visit_id>/stream/", live.visit_stream, name="visit_stream"),
]

if live.baseline_enabled():
    urlpatterns.append(path("stream-baseline/", live.stream_baseline, name="stream_baseline"))
