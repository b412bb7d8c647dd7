"""The project's URLs plus one page that no permission covers: `test_routes` proves the registry check fails
for it."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def unguarded(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Anyone may see this.")


urlpatterns = [*project_urlpatterns, path("unguarded/", unguarded, name="unguarded_page")]
