"""The banner every page shows while a workshop lab is applied."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from workshop.record import applied_lab_number
from workshop.registry import LABS


def lab_banner(request: HttpRequest) -> dict[str, Any]:
    number = applied_lab_number()
    return {"applied_lab": LABS.get(number) if number is not None else None}
