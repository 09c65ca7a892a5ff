from django.conf import settings
from django.http import HttpRequest


def local_outbox(request: HttpRequest) -> dict[str, bool]:
    """Whether pages may point at the development outbox."""
    return {"settings_local_outbox": settings.DEBUG and settings.PHOTOSHARE_AWS == "local"}
