"""Site-wide views: the home page and CSRF failures."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.csrf import csrf_failure as django_csrf_failure


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """API callers get JSON, pages get Django's page; both a 403."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": "Missing or invalid CSRF token. Reload the page and try again."}, status=403)
        response["Cache-Control"] = "no-store"
        return response
    return django_csrf_failure(request, reason=reason)
