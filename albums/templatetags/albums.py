"""`{% albums_config as config %}`: the albums configuration for a block on
another app's page (the photo page's "In your albums"), so that page's view
needs no change."""

from __future__ import annotations

from typing import Any

from django import template

from albums.config import albums_config as _albums_config

register = template.Library()


@register.simple_tag(takes_context=True)
def albums_config(context: template.Context, **extra: Any) -> dict[str, Any]:
    return _albums_config(context["request"], **extra)
