"""The "How it works" page as the server renders it, for a guest, a user and a
moderator, against the shared sandbox deployment."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from tests.accounts.test_magic_link_views import developer_site  # noqa: F401 - a fixture
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
    """Nine steps in an inline SVG (no script, no CDN), the guest's sign-in steps dimmed."""
    html = _page(Client())
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert svg.count('<g class="step') == 9
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


# --- the flow follows how the viewer signed in (issue 16) ----------------------------------

def _flow(html: str) -> dict[str, object]:
    """What the page draws: the flow's key, the lanes' names, the arrows' labels, the listed steps' labels."""
    svg = html[html.index("<svg"):html.index("</svg>")]
    steps_list = html[html.index('data-testid="steps"'):]
    steps_list = steps_list[:steps_list.index("</ol>")]
    return {
        "key": re.search(r'data-flow="([^"]+)"', svg).group(1),
        "lanes": re.findall(r'<text x="\d+" y="25" text-anchor="middle">([^<]+)</text>', svg),
        "arrows": [unescape(label) for label in re.findall(r'class="label"[^>]*>\d+\. ([^<]+)</text>', svg)],
        "listed": [unescape(label) for label in re.findall(r"<strong>([^<]+)</strong>", steps_list)],
        "current": re.findall(r'data-testid="flow-([a-z-]+)" aria-current="page"', html),
    }


def _link_client(email: str) -> Client:
    """A client signed in with an emailed link, over HTTP (POST /accounts/sign-in/link/)."""
    from accounts import magic_link

    client = Client()
    response = client.post("/accounts/sign-in/link/", {"token": magic_link.link_token(email=email)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def test_a_guest_sees_the_user_pool_flow_with_the_sign_in_dimmed(shared_site):
    drawn = _flow(_page(Client()))
    assert drawn["key"] == "guest" and drawn["current"] == ["guest"]
    assert "User pool" in drawn["lanes"] and "OIDC provider" not in drawn["lanes"]
    assert drawn["arrows"][1] == "InitiateAuth"


def test_a_password_user_sees_initiate_auth(shared_site, settings):
    html = _page(page_sign_in("alice@example.com", settings.DEMO_PASSWORD))
    drawn = _flow(html)
    assert drawn["key"] == "user-pool" and drawn["current"] == ["user-pool"]
    assert drawn["lanes"] == ["Browser", "Django", "User pool", "Identity pool", "STS", "S3", "DynamoDB"]
    assert drawn["arrows"][:4] == ["POST /accounts/sign-in/", "InitiateAuth", "GetId", "GetCredentialsForIdentity"]
    assert drawn["listed"] == drawn["arrows"]
    assert "skipped" not in html[html.index("<svg"):html.index("</svg>")]


def test_an_sso_user_sees_the_provider_and_no_user_pool(sso_site):
    from tests.actors import sso_client_sign_in

    html = _page(sso_client_sign_in("dana@wintercorp.com"))
    drawn = _flow(html)
    assert drawn["key"] == "sso" and drawn["current"] == ["sso"]
    assert drawn["lanes"] == ["Browser", "OIDC provider", "Django", "Identity pool", "STS", "S3", "DynamoDB"]
    assert "InitiateAuth" not in drawn["arrows"] and "GetId" in drawn["arrows"]
    assert any("/accounts/oidc/callback/" in label for label in drawn["arrows"])
    assert "Yours came by signing in with Winter Corp SSO" in html


def test_a_link_user_sees_the_server_vouch_for_them(developer_site):
    import uuid

    html = _page(_link_client(f"inspector-{uuid.uuid4().hex[:10]}@example.org"))
    drawn = _flow(html)
    assert drawn["key"] == "link" and drawn["current"] == ["link"]
    assert drawn["lanes"] == ["Browser", "Django", "Identity pool", "STS", "S3", "DynamoDB"]
    assert drawn["arrows"][1:3] == ["GetOpenIdTokenForDeveloperIdentity", "GetCredentialsForIdentity"]
    assert "InitiateAuth" not in drawn["arrows"] and "GetId" not in drawn["arrows"]


@pytest.mark.parametrize("key, lane", [("sso", "OIDC provider"), ("link", "Identity pool"), ("user-pool", "User pool")])
def test_the_switch_shows_another_flow(shared_site, key, lane):
    """?flow=<key> draws that flow for anyone, marks it current, says which one is the viewer's own,
    and nothing is dimmed (the guest's dimming is of the guest's own flow only)."""
    response = Client().get("/how-it-works/", {"flow": key})
    assert response.status_code == 200
    html = response.content.decode()
    drawn = _flow(html)
    assert drawn["key"] == key and drawn["current"] == [key] and lane in drawn["lanes"]
    assert "skipped" not in html[html.index("<svg"):html.index("</svg>")]
    assert "Yours came by browsing as a guest" in html and "Shown: how credentials come by" in html
    assert re.search(r'href="\?flow=guest#flow-heading" data-testid="flow-guest">Guest <span class="hint">\(yours\)</span>', html)


@pytest.mark.parametrize(
    "query", ["?flow=nope", "?flow=", "?flow=SSO", "?flow=sso%00", "?flow=" + "x" * 5000, "?flow=%ff%fe", "?flow=<script>"]
)
def test_a_bad_flow_falls_back_to_the_viewers_own(shared_site, settings, query):
    """Anything that names no flow is ignored: alice sees her own, with a 200, never a 500, nothing echoed."""
    client = page_sign_in("alice@example.com", settings.DEMO_PASSWORD)
    response = client.get("/how-it-works/" + query)
    assert response.status_code == 200
    html = response.content.decode()
    assert _flow(html)["key"] == "user-pool"
    assert "<script>" not in html.replace('<script type="module"', "")


def test_the_last_of_two_flow_values_is_used(shared_site):
    """QueryDict.get takes the last value; a list never reaches the flow lookup."""
    html = Client().get("/how-it-works/?flow=sso&flow=link").content.decode()
    assert _flow(html)["key"] == "link"
