"""What the album pages' JavaScript needs, handed over through json_script.

Albums are read and written by the browser itself, straight to DynamoDB with
its identity-pool credentials (static/js/albums-store.js): Django never sees
an album. It only tells the page where to ask: the credentials route, the
DynamoDB endpoint, and its own photo routes, by which an album's photo IDs
become photo cards. The table's name comes with the credentials
(`albumsTable`), like the bucket's.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse

from core.aws import dynamodb_browser_endpoint

# Stand-ins the browser replaces with an ID (never rebuilt from strings in JS).
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"


def albums_config(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "credentialsUrl": reverse("api-credentials"),
        "csrfToken": get_token(request),
        "dynamodbEndpoint": dynamodb_browser_endpoint(),
        "albumsUrl": reverse("albums:list"),
        "albumUrl": reverse("albums:album", args=[PLACEHOLDER_ID]),
        "photoApiUrl": reverse("api-photo", args=[PLACEHOLDER_ID]),
        "photoPageUrl": reverse("uploads:photo", args=[PLACEHOLDER_ID]),
        "myPhotosUrl": reverse("api-photos"),
        "recheckUrl": reverse("api-photo-recheck", args=[PLACEHOLDER_ID]),
        "placeholder": PLACEHOLDER_ID,
        **extra,
    }
