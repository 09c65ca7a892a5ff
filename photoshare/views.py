"""Site-wide views: the home page and CSRF failures."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.csrf import csrf_failure as django_csrf_failure

from core.http import json_error


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """API callers get JSON, pages get Django's page; both a 403."""
    if request.path.startswith("/api/"):
        return json_error("Missing or invalid CSRF token. Reload the page and try again.", 403)
    return django_csrf_failure(request, reason=reason)
