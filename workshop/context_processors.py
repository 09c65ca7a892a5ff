"""The banner every page shows while a workshop lab is applied."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from workshop.services import applied_lab, lab_summary


def lab_banner(request: HttpRequest) -> dict[str, Any]:
    # One os.stat per page: the record is re-read only when it changes.
    return {"applied_lab": lab_summary(applied_lab())}
