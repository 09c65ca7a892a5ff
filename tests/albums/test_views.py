"""The album pages through the test client. They are shells the browser
fills from DynamoDB itself, so what is checked here is what Django hands the
browser (the albums-config json_script), who gets a page at all, and that no
album data passes through the server; the browser tests drive the rest."""

from __future__ import annotations

import html
import json
import re
import uuid

import pytest
from django.test import Client

from accounts.models import User
from albums.config import PLACEHOLDER_ID
from tests.site_fixtures import browser_endpoint
from uploads.models import Photo

LIST = "/albums/"
CONFIG = re.compile(r'<script id="(albums-config|in-albums-config)" type="application/json">(.*?)</script>', re.S)


def page_config(response, name: str = "albums-config") -> dict:
    found = {script: json.loads(html.unescape(text)) for script, text in CONFIG.findall(response.content.decode())}
    return found[name]


@pytest.mark.parametrize("path", [LIST, f"/albums/{uuid.uuid4()}/"])
def test_a_signed_out_visitor_is_sent_to_sign_in(shared_site, path):
    """Guests have no albums: both pages redirect to sign-in, with the way back."""
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/") and "next=" in response["Location"]


@pytest.mark.parametrize("path", [LIST, f"/albums/{uuid.uuid4()}/"])
def test_a_signed_in_user_gets_the_page_and_its_configuration(shared_site, sandbox, make_user, sign_in, path):
    """The page names where the browser asks: its credentials, the DynamoDB endpoint, the photo routes; no album data."""
    response = sign_in(make_user()).get(path)
    assert response.status_code == 200
    config = page_config(response)
    assert config["credentialsUrl"] == "/api/credentials"
    assert config["dynamodbEndpoint"] == browser_endpoint(sandbox)  # the sandbox on localhost, as for S3
    assert config["albumUrl"] == f"/albums/{PLACEHOLDER_ID}/"
    assert config["photoApiUrl"] == f"/api/photos/{PLACEHOLDER_ID}"
    assert config["photoPageUrl"] == f"/photos/{PLACEHOLDER_ID}/"
    assert config["myPhotosUrl"] == "/api/photos" and config["placeholder"] == PLACEHOLDER_ID
    assert config["csrfToken"]
    if path != LIST:
        assert config["albumId"] == path.split("/")[2]
    assert "albumsTable" not in config  # it comes with the credentials, like the bucket


def test_the_album_page_needs_an_album_id_shaped_like_a_uuid(shared_site, make_user, sign_in):
    """Anything else in the album's place is a 404, never a page for the browser to send to DynamoDB."""
    client = sign_in(make_user())
    for odd in ("not-a-uuid", "..%2F..%2Fapi", "1" * 300, "%00"):
        assert client.get(f"/albums/{odd}/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_pages_answer_get_only(shared_site, make_user, sign_in, method):
    """Albums are written by the browser to DynamoDB, never posted here."""
    client = sign_in(make_user())
    assert getattr(client, method)(LIST).status_code == 405


def test_on_aws_the_regional_dynamodb_endpoint_is_in_connect_src(shared_site, make_user, sign_in, settings):
    """On AWS the browser reaches https://dynamodb.<region>.amazonaws.com: named in the page config and admitted by the CSP."""
    client = sign_in(make_user())
    settings.PHOTOSHARE_AWS, settings.AWS_ENDPOINT_URL, settings.AWS_BROWSER_ENDPOINT_URL = "aws", "", ""
    response = client.get(LIST)
    endpoint = f"https://dynamodb.{settings.AWS_REGION}.amazonaws.com"
    assert page_config(response)["dynamodbEndpoint"] == endpoint
    policy = {part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split(";") if part.strip()}
    assert endpoint in policy["connect-src"]
    assert endpoint not in policy["img-src"]


def test_the_header_links_to_albums_for_signed_in_users_only(shared_site, make_user, sign_in):
    """The header links to Albums beside My photos and Upload; guests, who have none, do not see it."""
    assert 'href="/albums/"' in sign_in(make_user()).get("/").content.decode()
    assert 'href="/albums/"' not in Client().get("/").content.decode()


def _photo(owner: User, *, visibility: str = "private") -> Photo:
    return Photo.objects.create(
        owner=owner, key=f"{visibility}/us-east-1:{uuid.uuid4()}/{uuid.uuid4()}.png", version_id="v1",
        visibility=visibility, title="A photo", content_type="image/png", size=100, width=1, height=1,
        public_key=f"public/us-east-1:{uuid.uuid4()}/{uuid.uuid4()}.png" if visibility == "public" else "",
        public_version_id="v1" if visibility == "public" else "",
    )


def test_the_photo_page_has_the_in_albums_block_for_a_signed_in_viewer(shared_site, make_user, sign_in):
    """The owner's photo page carries "In your albums" with the photo's ID for albums-photo.js."""
    email = make_user()
    client = sign_in(email)
    photo = _photo(User.objects.get(email=email))
    response = client.get(f"/photos/{photo.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-in-albums' in text and "js/albums-photo.js" in text
    assert page_config(response, "in-albums-config")["photoId"] == str(photo.pk)


def test_a_guest_on_a_published_photo_gets_no_albums_block(shared_site, make_user, sign_in):
    """Guests keep no albums: a published photo's page for them has no block and loads no albums script."""
    email = make_user()
    sign_in(email)
    photo = _photo(User.objects.get(email=email), visibility="public")
    response = Client().get(f"/photos/{photo.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "data-in-albums" not in text and "albums-photo.js" not in text
