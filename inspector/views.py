"""The "How it works" page and its two JSON routes. The page is rendered
with what the server knows (the role it expects, that role's policies from
IAM, the flow); `static/js/inspector.js` adds what only the browser can say
(its credentials, what STS says they are, what S3 answers)."""

from __future__ import annotations

import functools
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.store import CredentialStore
from core import sandbox
from core.aws import AwsCallError, Unreachable, dynamodb_browser_endpoint, s3_browser_endpoint, sts_browser_endpoint
from core.deployment import deployment_get
from core.http import json_answer, json_error
from inspector import services, steps
from uploads.services import photos_public
from workshop.services import applied_lab, lab_summary

log = logging.getLogger(__name__)

# Made up, and in no user's prefix: IAM refuses before S3 looks for the key.
OTHER_IDENTITY = "us-east-1:00000000-0000-4000-8000-000000000000"


def _session(request: HttpRequest) -> tuple[object, CredentialStore]:
    return (request.user if request.user.is_authenticated else None), CredentialStore(request.session)


@require_GET
def how_it_works(request: HttpRequest) -> HttpResponse:
    user, store = _session(request)
    deployment = deployment_get()
    choice = services.role_expected(user=user, store=store, deployment=deployment)
    newest = photos_public(cursor=None, limit=1).photos
    published = newest[0] if newest else None
    config = {
        "credentialsUrl": reverse("api-credentials"),
        "issueUrl": reverse("api-inspector-issue"),
        "decisionUrl": reverse("api-inspector-decision", args=["REQUEST_ID"]),
        "csrfToken": get_token(request),
        "stsEndpoint": sts_browser_endpoint(),
        "s3Endpoint": s3_browser_endpoint(),
        "dynamodbEndpoint": dynamodb_browser_endpoint(),  # the albums try (issue 17)
        "explains": sandbox.sandbox_available(),
        "signedIn": user is not None,
        "expectedRole": choice.name,
        "otherIdentity": OTHER_IDENTITY,
        "published": {"key": published.public_key, "versionId": published.public_version_id} if published else None,
        "lab": lab_summary(applied_lab()),  # a workshop lab's culprit, marked in the explanations
    }
    context = {
        "choice": choice,
        "policies": services.role_policies(role=choice.name),
        "steps": steps.STEPS,
        "diagram": steps.diagram(),
        "inspector_config": config,
        "published": published,
        "other_identity": OTHER_IDENTITY,
        "try_code": steps.CodeRef("static/js/inspector.js", "export async function tryRun("),
        "policy_code": steps.CodeRef(f"infra/policies/{'unauthenticated' if choice.kind == 'unauthenticated' else 'authenticated'}.json", '"Statement"'),
    }
    return render(request, "inspector/how_it_works.html", context)


def _json_get(view):
    """405 as JSON (with Allow) for anything but GET: every answer under /api/ is JSON."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "GET":
            return json_error(_("Use GET."), 405, allow="GET")
        return view(request, *args, **kwargs)

    return wrapper


@_json_get
def api_issue(request: HttpRequest) -> JsonResponse:
    """GET /api/inspector/issue: why this session's credentials have their role, from the audit trail."""
    user, store = _session(request)
    choice = services.role_expected(user=user, store=store, deployment=deployment_get())
    event = services.issue_recorded(identity_id=services.session_identity_id(user=user, store=store))
    return json_answer(services.issue_summary(event, choice=choice))


@_json_get
def api_decision(request: HttpRequest, request_id: str) -> JsonResponse:
    """GET /api/inspector/decisions/<request id>: the sandbox's decision on one of the caller's own requests."""
    if not sandbox.request_id_valid(request_id):
        return json_error(_("That is not a request id."), 400)
    user, store = _session(request)
    try:
        found = services.decision_for(request_id=request_id, identity_id=services.session_identity_id(user=user, store=store))
    except services.NotYours:
        return json_error(_("No decision of yours is kept for that request id."), 404)
    except sandbox.SandboxOnly:
        return json_error(_("Explanations need the local sandbox; AWS keeps no such record."), 404)
    except Unreachable:
        return json_error(_("The sandbox is not answering. Try again in a moment."), 503)
    except AwsCallError as exc:
        log.warning("inspector: decision %s: %s %s", request_id, exc.code, exc.detail)
        return json_error(_("The sandbox could not explain that request."), 503)
    return json_answer(found)
