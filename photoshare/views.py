"""Site-wide views: the home page (the public gallery) and CSRF failures."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.http import require_GET

from core.http import json_error
from uploads.services import photos_public
from uploads.views import gallery_render


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Everyone's published photos, for guests too: their browsers read them with the guest role."""
    return gallery_render(request, "home.html", photos_public)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """API callers get JSON, pages get Django's page; both a 403."""
    if request.path.startswith("/api/"):
        return json_error("Missing or invalid CSRF token. Reload the page and try again.", 403)
    return django_csrf_failure(request, reason=reason)
