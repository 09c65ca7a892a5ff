"""The "How it works" page as the server renders it, for a guest, a user and a
moderator, against the shared sandbox deployment."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.actors import page_sign_in

pytestmark = pytest.mark.django_db

SUB = "${cognito-identity.amazonaws.com:sub}"
TRIES = ["try-own-private", "try-other-private", "try-guest-write", "try-list-root", "try-list-public", "try-read-public"]


def _page(client: Client) -> str:
    response = client.get("/how-it-works/")
    assert response.status_code == 200
    return response.content.decode()


def test_every_page_links_to_it(shared_site):
    """The header on the gallery, for a guest, links to /how-it-works/."""
    html = Client().get("/").content.decode()
    assert 'href="/how-it-works/"' in html and "How it works" in html


def test_the_current_page_link_is_marked(shared_site):
    """On the page itself the header link carries aria-current."""
    assert re.search(r'href="/how-it-works/" data-testid="how-it-works-link" aria-current="page"', _page(Client()))


@pytest.mark.parametrize(
    "who, role, statement",
    [
        (None, "unauthenticated", "GuestsReadPublishedPhotos"),
        ("alice@example.com", "authenticated", "OwnerReadsWritesAndDeletesOwnPrefixes"),
        ("carol@example.com", "moderator", "ModeratorsDeletePublishedPhotos"),
    ],
)
def test_the_role_and_its_policy_from_iam(shared_site, settings, who, role, statement):
    """Each visitor sees the role the identity pool gives them and its policy as IAM holds it."""
    client = page_sign_in(who, settings.DEMO_PASSWORD) if who else Client()
    html = _page(client)
    assert f"What role <code>{settings.PHOTOSHARE_NAME}-{role}</code> allows" in html
    assert statement in html
    assert 'data-testid="policy"' in html


def test_the_identity_id_variable_is_highlighted(shared_site, settings):
    """In alice's policy each ${cognito-identity.amazonaws.com:sub} is marked, with a slot for its value."""
    html = _page(page_sign_in("alice@example.com", settings.DEMO_PASSWORD))
    policy = html[html.index('data-testid="policy"'):]
    assert policy.count(f'<mark class="policy-variable" title="your identity ID">{SUB}</mark><span class="resolved" data-sub-value>') >= 3


def test_why_the_moderator_role(shared_site, settings):
    """Carol's reason names cognito:preferred_role and her group; alice's the fallback to the authenticated role."""
    carol = _page(page_sign_in("carol@example.com", settings.DEMO_PASSWORD))
    assert "cognito:preferred_role" in carol and "moderators" in carol
    alice = _page(page_sign_in("alice@example.com", settings.DEMO_PASSWORD))
    assert "AmbiguousRoleResolution: AuthenticatedRole" in alice


def test_seven_try_buttons_each_with_a_result_slot(shared_site):
    """The six S3 buttons and the albums one (issue 17) are there, each beside its own try-result."""
    html = _page(Client())
    for name in (*TRIES, "try-other-album"):
        assert f'data-testid="{name}"' in html
    assert html.count('data-testid="try-result"') == 7


def test_the_read_public_button_waits_for_a_published_photo(shared_site):
    """With no published photo there is nothing to read: the button is disabled and says so."""
    from uploads.models import Photo

    Photo.objects.filter(visibility="public").delete()
    html = _page(Client())
    assert re.search(r'data-testid="try-read-public" disabled', html)
    assert "nobody has published a photo yet" in html


def test_the_sequence_diagram_is_server_rendered_svg(shared_site):
    """Eight steps in an inline SVG (no script, no CDN), the guest's sign-in steps dimmed."""
    html = _page(Client())
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert svg.count('<g class="step') == 8
    assert svg.count("skipped") == 2
    assert "<script" not in svg and "http://www.w3.org/2000/svg" in svg


def test_no_inline_script(shared_site):
    """The page's data is a json_script block; the only script is the module (the CSP forbids inline code)."""
    html = _page(Client())
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all('type="application/json"' in s or 'type="module" src=' in s for s in scripts), scripts


def test_the_page_never_holds_secrets(shared_site, settings):
    """The rendered page carries no credentials: the browser fetches its own."""
    client = page_sign_in("alice@example.com", settings.DEMO_PASSWORD)
    client.post("/api/credentials")
    html = _page(client)
    assert "secretAccessKey" not in html and "sessionToken" not in html


def test_each_step_links_to_its_line_when_the_source_url_is_set(shared_site, settings):
    settings.SOURCE_URL = "https://github.com/example/photoshare/blob/main"
    page = Client().get("/how-it-works/").content.decode()
    assert re.search(r'<a href="https://github.com/example/photoshare/blob/main/accounts/views.py#L\d+" rel="noopener">', page)


@pytest.mark.parametrize(
    "email, claim, rule",
    [
        ("dana@wintercorp.com", "wintercorp.com", "Claim hd, MatchType Equals, Value wintercorp.com"),
        ("frank@example.org", "not in your token", "no rule matched: AmbiguousRoleResolution AuthenticatedRole"),
    ],
)
def test_the_page_shows_an_sso_sessions_provider_claim_and_rule(sso_site, email, claim, rule):
    """How it works, for an SSO user: role-provider (the issuer), role-claim (hd) and role-rule."""
    from accounts import oidc
    from tests.actors import sso_client_sign_in

    page = sso_client_sign_in(email).get("/how-it-works/").content.decode()

    def shown(testid: str) -> str:
        found = re.search(rf'data-testid="{testid}">(.*?)</dd>', page, re.S)
        assert found, testid
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()

    assert oidc.issuer() in shown("role-provider") and oidc.provider_name() in shown("role-provider")
    assert shown("role-claim").startswith("hd =") and claim in shown("role-claim")
    assert rule in shown("role-rule").replace("&gt;", ">")
