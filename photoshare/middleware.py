"""Adds the AWS origins the browser uses to the Content-Security-Policy.

They depend on the deployment (the sandbox's port locally, the bucket's
region on AWS), so they are computed from the settings of the moment rather
than fixed when the settings module loads."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from core.aws import dynamodb_browser_endpoint, s3_browser_endpoint, sts_browser_endpoint


def s3_origins() -> list[str]:
    """Where the browser sends S3 requests (uploads) and loads photos from."""
    endpoint = s3_browser_endpoint()
    if settings.AWS_BROWSER_ENDPOINT_URL:
        return [endpoint]
    bucket_host = f"https://{settings.PHOTOSHARE_BUCKET}.s3.{settings.AWS_REGION}.amazonaws.com"
    return [endpoint, bucket_host]


class S3ContentSecurityPolicy:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = s3_origins()
        # The inspector's page asks STS who its credentials are, albums live in
        # DynamoDB (issue 17); photos come from S3 only.
        others = dict.fromkeys([sts_browser_endpoint(), dynamodb_browser_endpoint()])
        apis = [*origins, *(o for o in others if o not in origins)]
        response._csp_update = {"connect-src": apis, "img-src": origins}  # read by csp.middleware
        return response


class LocalhostToAppOrigin:
    """Development only: a request for the app on `localhost` is redirected to
    the app's own origin (the first of APP_ORIGINS, 127.0.0.1 by default).

    Locally the browser reaches the sandbox's S3 on localhost. Cookies are not
    separated by port, so if the app also answered there, a page the S3 origin
    served could read and set the app's session and CSRF cookies. The target is
    fixed by the settings, never taken from the request's Host, so this is no
    open redirect; only GET and HEAD are redirected (a form posted to localhost
    gets Django's 400 for a host it does not serve)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The raw header: request.get_host() would refuse the host before we could redirect.
        host = request.META.get("HTTP_HOST", "").rsplit(":", 1)[0].lower()
        if host == "localhost" and request.method in ("GET", "HEAD") and settings.APP_ORIGINS:
            return HttpResponseRedirect(settings.APP_ORIGINS[0].rstrip("/") + request.get_full_path())
        return self.get_response(request)
