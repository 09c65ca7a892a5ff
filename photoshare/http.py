"""JSON answers for the app's small API: never cached, errors as {"error": ...}."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def json_answer(data: dict[str, Any], *, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"  # credentials and private data: never in a cache
    return response


def json_error(message: str, status: int, *, allow: str | None = None) -> JsonResponse:
    """A fixed, human message; the detail belongs in the log, not here."""
    response = json_answer({"error": message}, status=status)
    if allow:
        response["Allow"] = allow
    return response
