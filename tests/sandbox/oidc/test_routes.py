"""The local OIDC provider over HTTP: the whole code flow with PKCE, the ID
token checked against the JWKS, and every way each endpoint must refuse."""

from __future__ import annotations

import base64
import hashlib
import json
import socket

import jwt
import pytest
import requests

from tests.sandbox.oidc.conftest import (
    APP,
    APP_REDIRECT,
    APP_SECRET,
    OTHER,
    OTHER_REDIRECT,
    OTHER_SECRET,
    TIMEOUT,
    Flow,
    query_of,
)


def verified(issuer: str, id_token: str, audience: str = APP) -> dict:
    """The ID token's claims, verified as a relying party does: signature from the JWKS, iss, aud, exp."""
    keys = jwt.PyJWKClient(f"{issuer}/jwks.json", timeout=TIMEOUT)
    key = keys.get_signing_key_from_jwt(id_token).key
    return jwt.decode(id_token, key, algorithms=["RS256"], audience=audience, issuer=issuer)


# -- the documents
def test_discovery_names_the_endpoints_under_the_listening_address(issuer, oidc_sandbox):
    """The issuer is the endpoint the sandbox listens on, whatever Host the request names."""
    answer = requests.get(f"{issuer}/.well-known/openid-configuration", headers={"Host": "evil.example"}, timeout=TIMEOUT)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["issuer"] == f"{oidc_sandbox.endpoint}/_sandbox/oidc"
    assert doc["authorization_endpoint"] == f"{issuer}/authorize"
    assert doc["token_endpoint"] == f"{issuer}/token"
    assert doc["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert doc["jwks_uri"] == f"{issuer}/jwks.json"
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}


def test_jwks_kid_is_the_rfc7638_thumbprint(issuer):
    """One RS256 key whose kid is the SHA-256 of its canonical JWK (RFC 7638 section 3)."""
    (key,) = requests.get(f"{issuer}/jwks.json", timeout=TIMEOUT).json()["keys"]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    canonical = json.dumps({"e": key["e"], "kty": "RSA", "n": key["n"]}, separators=(",", ":"))
    assert key["kid"] == base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert "d" not in key and "p" not in key


# -- the whole flow
@pytest.mark.parametrize(
    ("email", "hd"),
    [
        ("dana@wintercorp.com", "wintercorp.com"),
        ("erin@wintercorp.com", "wintercorp.com"),
        ("frank@example.org", None),
        ("Zoe@WinterCorp.com", "wintercorp.com"),  # typed in: lower-cased, the domain is hosted
        ("mallory@wintercorp.com.evil.example", None),  # a look-alike domain is not the hosted one
        ("mallory@eng.wintercorp.com", None),  # nor is a subdomain
    ],
)
def test_code_flow_gives_a_verifiable_id_token(flow, issuer, email, hd):
    """Authorize, choose a person, exchange with the verifier: the ID token verifies and carries the claims."""
    request_id = flow.request_id()
    answer = flow.sign_in(request_id, email)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(APP_REDIRECT + "?")
    back = query_of(location)
    assert back["state"] == flow.sent["state"]
    assert back["iss"] == issuer  # RFC 9207: the client can tell which provider answered
    tokens = flow.exchange(back["code"])
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["Cache-Control"] == "no-store"
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = verified(issuer, body["id_token"])
    assert claims["iss"] == issuer
    assert claims["aud"] == APP
    assert claims["email"] == email.lower()
    assert claims["email_verified"] is True
    assert claims["nonce"] == flow.sent["nonce"]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iat"] - 5 <= claims["auth_time"] <= claims["iat"]
    assert claims["sub"].isdigit() and email.lower().split("@")[0] not in claims["sub"]
    assert claims.get("hd") == hd
    info = requests.get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=TIMEOUT)
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"] and info.json().get("hd") == hd


def test_sub_is_stable_per_email_and_differs_between_people(flow, issuer):
    """Two sign-ins as dana give one sub; frank's is another."""
    subs = [verified(issuer, flow.tokens(email)["id_token"])["sub"] for email in ("dana@wintercorp.com", "DANA@wintercorp.com", "frank@example.org")]
    assert subs[0] == subs[1] != subs[2]


def test_client_secret_post_authenticates_too(flow, issuer):
    """client_id and client_secret in the body instead of HTTP Basic."""
    answer = flow.exchange(flow.code(), method="post")
    assert answer.status_code == 200, answer.text
    assert verified(issuer, answer.json()["id_token"])["aud"] == APP


def test_a_redirect_uri_with_a_query_keeps_it(issuer):
    """A registered redirect URI's own query survives, the code added to it."""
    other = Flow(issuer=issuer, client_id=OTHER, secret=OTHER_SECRET, redirect_uri=OTHER_REDIRECT)
    answer = other.sign_in(other.request_id(), "frank@example.org")
    assert answer.headers["Location"].startswith(OTHER_REDIRECT + "&code=")
    tokens = other.exchange(query_of(answer.headers["Location"])["code"])
    assert verified(issuer, tokens.json()["id_token"], audience=OTHER)["aud"] == OTHER


def test_without_a_nonce_the_token_has_none(flow, issuer):
    """nonce is optional in the code flow; absent, the claim is too."""
    assert "nonce" not in verified(issuer, flow.tokens(nonce=None)["id_token"])


def test_sign_in_page_lists_the_demo_people_and_forbids_framing(flow):
    """The page: the three demo people, a form for any email, no script, not frameable."""
    page = flow.authorize()
    assert page.status_code == 200
    for email in ("dana@wintercorp.com", "erin@wintercorp.com", "frank@example.org"):
        assert f'value="{email}"' in page.text
    assert 'data-testid="oidc-email"' in page.text
    assert "<script" not in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "form-action 'self' http://127.0.0.1:8000" in policy  # the redirect after the form, for Chromium
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert flow.sent["state"] not in page.text  # the request stays on the server, only its ID is in the page


def test_stylesheet_is_served(issuer):
    answer = requests.get(f"{issuer}/sign-in.css", timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/css")


# -- authorize: refused with a page, never a redirect
@pytest.mark.parametrize(
    "params",
    [
        {"redirect_uri": "http://127.0.0.1:8000/accounts/oidc/callback/evil"},  # a longer path
        {"redirect_uri": "http://127.0.0.1:8000/accounts/oidc/callback"},  # no trailing slash
        {"redirect_uri": "http://127.0.0.1:8000/accounts/oidc/callback/?next=x"},  # an added query
        {"redirect_uri": "HTTP://127.0.0.1:8000/accounts/oidc/callback/"},  # not the same string
        {"redirect_uri": OTHER_REDIRECT},  # another client's
        {"redirect_uri": None},
        {"client_id": "nobody"},
        {"client_id": None},
    ],
)
def test_unknown_client_or_unregistered_redirect_uri_gets_an_error_page(flow, params):
    """An open redirector would send codes anywhere: these get a page, no Location."""
    answer = flow.authorize(**params)
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert answer.headers["Content-Type"].startswith("text/html")
    code = "invalid_client" if "client_id" in params else "redirect_uri_mismatch"
    assert f'data-testid="oidc-error-code">{code}<' in answer.text


def test_a_repeated_redirect_uri_gets_a_page(issuer, flow):
    """Two redirect_uri parameters: neither is trusted."""
    flow.authorize()
    params = [*flow.sent.items(), ("redirect_uri", "http://evil.example/")]
    answer = requests.get(f"{issuer}/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_an_error_page_does_not_reflect_input(flow):
    """Nothing the request says is echoed into the page."""
    answer = flow.authorize(client_id="<script>alert(1)</script>")
    assert "<script>" not in answer.text and "alert(1)" not in answer.text


# -- authorize: refused back to the (verified) redirect URI
@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"scope": "email"}, "invalid_scope"),  # openid missing
        ({"scope": None}, "invalid_scope"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # PKCE is required
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # absent means plain (RFC 7636 4.3)
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"state": "s" * 1025}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ],
)
def test_bad_authorization_requests_are_sent_back_with_the_error(flow, params, error):
    """Once the client and redirect URI are good, errors go back to it with the state (an oversized one is not echoed)."""
    answer = flow.authorize(**params)
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"].startswith(APP_REDIRECT + "?")
    back = query_of(answer.headers["Location"])
    assert back["error"] == error
    assert "code" not in back
    if "state" not in params:
        assert back["state"] == flow.sent["state"]
    else:
        assert "state" not in back


def test_an_empty_parameter_counts_as_omitted(flow, issuer):
    """RFC 6749 section 3.1: `nonce=` is no nonce, `state=` no state."""
    answer = flow.sign_in(flow.request_id(nonce="", state=""), "frank@example.org")
    back = query_of(answer.headers["Location"])
    assert "state" not in back
    assert "nonce" not in verified(issuer, flow.exchange(back["code"]).json()["id_token"])


def test_refusals_reflect_nothing_of_the_request(flow):
    """A made-up scope is not echoed into the error_description the client may show."""
    answer = flow.authorize(scope="openid <b>pwned</b>")
    assert "pwned" not in answer.headers["Location"]


def test_a_repeated_parameter_is_invalid_request(issuer, flow):
    """RFC 6749 section 3.1: parameters MUST NOT be included more than once."""
    flow.authorize()
    params = [*flow.sent.items(), ("scope", "openid")]
    answer = requests.get(f"{issuer}/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


# -- the sign-in form
def test_a_sign_in_request_is_used_once(flow):
    """The second post of the same page gets the expired page, not a second code."""
    request_id = flow.request_id()
    assert flow.sign_in(request_id, "dana@wintercorp.com").status_code == 303
    again = flow.sign_in(request_id, "frank@example.org")
    assert again.status_code == 400 and "Location" not in again.headers
    assert 'data-testid="oidc-error-code">expired<' in again.text


def test_an_unknown_sign_in_request_gets_the_expired_page(flow):
    answer = flow.sign_in("made-up", "dana@wintercorp.com")
    assert answer.status_code == 400 and "Location" not in answer.headers


@pytest.mark.parametrize("email", ["not-an-email", "a@b", '"><script>alert(1)</script>@x.example', "a@-x.example", "x" * 250 + "@x.example", ""])
def test_a_bad_email_shows_the_page_again(flow, email):
    """A clear message, the request still waiting, the typed text escaped."""
    request_id = flow.request_id()
    answer = flow.sign_in(request_id, email)
    assert answer.status_code == 400
    assert 'data-testid="oidc-problem"' in answer.text
    assert "<script>" not in answer.text
    assert flow.sign_in(request_id, "frank@example.org").status_code == 303


def test_no_email_asks_for_one(flow):
    request_id = flow.request_id()
    answer = flow.sign_in(request_id)
    assert answer.status_code == 400 and 'data-testid="oidc-problem"' in answer.text


def test_cancel_sends_access_denied(flow):
    """The person declines: access_denied with the state (OIDC Core 3.1.2.6)."""
    answer = flow.sign_in(flow.request_id(), cancel="1")
    back = query_of(answer.headers["Location"])
    assert back["error"] == "access_denied" and back["state"] == flow.sent["state"]


def test_a_repeated_field_in_the_sign_in_form_is_refused(issuer, flow):
    request_id = flow.request_id()
    body = f"request={request_id}&email=dana%40wintercorp.com&email=frank%40example.org"
    answer = requests.post(f"{issuer}/sign-in", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"},
                           allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 400 and "Location" not in answer.headers


# -- token
def test_a_reused_code_is_refused_and_revokes_its_token(flow, issuer):
    """The second exchange is invalid_grant, and the first one's access token stops working."""
    code = flow.code()
    first = flow.exchange(code)
    assert first.status_code == 200
    second = flow.exchange(code)
    assert (second.status_code, second.json()["error"]) == (400, "invalid_grant")
    info = requests.get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {first.json()['access_token']}"}, timeout=TIMEOUT)
    assert info.status_code == 401


def test_a_bad_verifier_is_refused_and_uses_the_code_up(flow):
    """invalid_grant, and the right verifier afterwards is too late: no guessing one try at a time."""
    code = flow.code()
    right = flow.verifier
    wrong = flow.exchange(code, verifier="x" * 43)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert flow.exchange(code, verifier=right).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("method", ["basic", "post"])
def test_a_wrong_client_secret_is_invalid_client(flow, method):
    """401 invalid_client; with HTTP Basic, a Basic challenge (RFC 6749 section 5.2)."""
    code = flow.code()
    flow.secret = "wrong-secret-000"
    answer = flow.exchange(code, method=method)
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")
    assert answer.headers.get("WWW-Authenticate", "").startswith("Basic") == (method == "basic")
    flow.secret = APP_SECRET
    assert flow.exchange(code, method=method).status_code == 200  # a refused client did not use the code up


@pytest.mark.parametrize("method", ["basic", "post", "none"])
def test_an_unknown_or_missing_client_is_invalid_client(issuer, method):
    stranger = Flow(issuer=issuer, client_id="nobody", secret="whatever-secret")
    answer = stranger.exchange("some-code", verifier="v" * 43, method=method)
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


def test_a_code_issued_to_another_client_is_refused(flow, issuer):
    """Bound to the client: the other app cannot redeem the photoshare-web code."""
    code = flow.code()
    other = Flow(issuer=issuer, client_id=OTHER, secret=OTHER_SECRET, redirect_uri=APP_REDIRECT)
    answer = other.exchange(code, verifier=flow.verifier)
    assert answer.json()["error"] == "invalid_grant"


def test_a_different_redirect_uri_at_the_token_endpoint_is_refused(flow):
    """Bound to the redirect URI: even another registered one of the same client."""
    code = flow.code()
    answer = flow.exchange(code, redirect_uri="http://localhost:8000/accounts/oidc/callback/")
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"grant_type": "refresh_token"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "unsupported_grant_type"),
        ({"code_verifier": "short"}, "invalid_request"),
        ({"code_verifier": ""}, "invalid_request"),
        ({"redirect_uri": ""}, "invalid_request"),
        ({"code": "made-up"}, "invalid_grant"),
    ],
)
def test_bad_token_requests(flow, fields, error):
    fields = dict(fields)
    answer = flow.exchange(fields.pop("code", flow.code()), **fields)
    assert (answer.status_code, answer.json()["error"]) == (400, error)


def test_two_client_authentication_methods_are_refused(flow):
    """RFC 6749 section 2.3: one method per request."""
    answer = flow.exchange(flow.code(), client_secret=APP_SECRET)
    assert answer.json()["error"] == "invalid_request"


def test_a_missing_grant_type_is_invalid_request(flow, issuer):
    code = flow.code()
    data = {"code": code, "redirect_uri": APP_REDIRECT, "code_verifier": flow.verifier}
    answer = requests.post(f"{issuer}/token", data=data, auth=(APP, APP_SECRET), timeout=TIMEOUT)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"grant_type": "authorization_code"}', "application/json"),
        ("grant_type=authorization_code&grant_type=authorization_code", "application/x-www-form-urlencoded"),
        (b"grant_type=\xff", "application/x-www-form-urlencoded"),
    ],
)
def test_a_token_body_that_is_not_a_strict_form_is_invalid_request(issuer, body, content_type):
    answer = requests.post(f"{issuer}/token", data=body, headers={"Content-Type": content_type}, auth=(APP, APP_SECRET), timeout=TIMEOUT)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


def test_an_oversized_body_is_refused(issuer):
    answer = requests.post(f"{issuer}/token", data={"x": "a" * 20_000}, timeout=TIMEOUT)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("authorization", ["Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Digest x", "Basic \u00e9\u00e9\u00e9\u00e9", "Basic " + base64.b64encode(b"\xff:\xfe").decode()])
def test_a_malformed_basic_header_is_refused(flow, authorization):
    code = flow.code()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP_REDIRECT, "code_verifier": flow.verifier}
    answer = requests.post(f"{flow.issuer}/token", data=data, headers={"Authorization": authorization}, timeout=TIMEOUT)
    assert answer.status_code in (400, 401) and answer.json()["error"] in ("invalid_client", "invalid_request")


# -- userinfo
def test_userinfo_without_a_token_is_challenged(issuer):
    """RFC 6750 section 3.1: a bare challenge when no token was sent."""
    answer = requests.get(f"{issuer}/userinfo", timeout=TIMEOUT)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_userinfo_with_a_bad_token_is_invalid_token(issuer, flow):
    """A made-up token, and an ID token used as an access token."""
    for token in ("made-up", flow.tokens()["id_token"]):
        answer = requests.get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
        assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


# -- routing
@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nothing", 404), ("GET", "", 404), ("DELETE", "/token", 405), ("GET", "/token", 405), ("POST", "/jwks.json", 405),
])
def test_unknown_routes_and_methods(issuer, method, path, status):
    answer = requests.request(method, f"{issuer}{path}", timeout=TIMEOUT)
    assert answer.status_code == status and "error" in answer.json()


def test_the_session_sandbox_without_clients_refuses_every_client(sandbox):
    """A sandbox started with no --oidc-client still publishes its documents, and knows no client."""
    issuer = f"{sandbox.endpoint}/_sandbox/oidc"
    assert requests.get(f"{issuer}/jwks.json", timeout=TIMEOUT).status_code == 200
    answer = Flow(issuer=issuer).authorize()
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_a_declared_body_over_the_limit_is_refused_unread(oidc_sandbox):
    """Content-Length over 16 KiB: a 400 at once, without waiting for a body that never comes."""
    host, port = oidc_sandbox.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
        conn.sendall(b"POST /_sandbox/oidc/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 999999\r\n\r\ngrant_type=x")
        status = conn.recv(200).split(b"\r\n", 1)[0]
    assert status.startswith(b"HTTP/1.1 400")


def test_answered_while_a_snapshot_holds_the_gateway_lock(tmp_path):
    """The JWKS an identity pool fetches inside the lock must not wait for it
    (the deadlock routing.py avoids): here the lock is held exclusively, as a
    persister's snapshot holds it, and the provider still answers."""
    import threading

    from sandbox.server import SandboxServer

    server = SandboxServer(port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with server.gateway.lock.exclusive():
            answer = requests.get(f"{server.sandbox.endpoint}/_sandbox/oidc/jwks.json", timeout=5)
        assert answer.status_code == 200 and answer.json()["keys"]
    finally:
        server.httpd.shutdown()
        thread.join(timeout=5)
        server.close()
