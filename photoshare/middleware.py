"""Adds the S3 origins the browser uses to the Content-Security-Policy.

They depend on the deployment (the sandbox's port locally, the bucket's
region on AWS), so they are computed from the settings of the moment rather
than fixed when the settings module loads."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from photoshare.aws import s3_browser_endpoint


def s3_origins() -> list[str]:
    """Where the browser sends S3 requests (uploads) and loads photos from."""
    endpoint = s3_browser_endpoint()
    if settings.AWS_ENDPOINT_URL:
        return [endpoint]
    bucket_host = f"https://{settings.PHOTOSHARE_BUCKET}.s3.{settings.AWS_REGION}.amazonaws.com"
    return [endpoint, bucket_host]


class S3ContentSecurityPolicy:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = s3_origins()
        response._csp_update = {"connect-src": origins, "img-src": origins}  # read by csp.middleware
        return response
