from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def public_home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/public_home.html")


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/public_home.html")


def my_record(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/public_home.html")
