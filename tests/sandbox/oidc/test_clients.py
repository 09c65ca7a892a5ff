"""Client registration specs: `CLIENT_ID:SECRET:REDIRECT_URI[,URI...]`."""

from __future__ import annotations

import pytest

from sandbox.oidc.clients import BadClient, Client, client_parse, clients_index


@pytest.mark.parametrize(
    ("spec", "client"),
    [
        ("web:s3cret-123:http://127.0.0.1:8000/cb", Client("web", "s3cret-123", ("http://127.0.0.1:8000/cb",))),
        ("web:s3cret-123:http://127.0.0.1:8000/cb,https://app.example/cb?x=1",
         Client("web", "s3cret-123", ("http://127.0.0.1:8000/cb", "https://app.example/cb?x=1"))),
        ("a.b_c~d-e:!@#$%^&*()+=:http://[::1]:8000/cb", Client("a.b_c~d-e", "!@#$%^&*()+=", ("http://[::1]:8000/cb",))),
    ],
)
def test_good_specs(spec, client):
    assert client_parse(spec) == client


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "web",
        "web:s3cret-123",  # no redirect URI
        "web:s3cret-123:",
        "web:short:http://127.0.0.1/cb",  # secret under 8 characters
        "web:has space:http://127.0.0.1/cb",
        ":s3cret-123:http://127.0.0.1/cb",  # no ID
        "we/b:s3cret-123:http://127.0.0.1/cb",
        "web:s3cret-123:127.0.0.1/cb",  # not absolute
        "web:s3cret-123:javascript:alert(1)",
        "web:s3cret-123:http://127.0.0.1/cb#frag",
        "web:s3cret-123:http://127.0.0.1:99999/cb",
        "web:s3cret-123:http://127.0.0.1/c b",
        "web:s3cret-123:http://127.0.0.1/cb\r\nSet-Cookie:x",
    ],
)
def test_bad_specs_are_refused(spec):
    with pytest.raises(BadClient):
        client_parse(spec)


def test_one_id_twice_is_refused():
    with pytest.raises(BadClient, match="twice"):
        clients_index(["web:s3cret-123:http://a.example/cb", "web:s3cret-456:http://b.example/cb"])


def test_redirect_uris_match_exactly():
    client = client_parse("web:s3cret-123:http://127.0.0.1:8000/cb")
    assert client.redirects_to("http://127.0.0.1:8000/cb")
    assert not client.redirects_to("http://127.0.0.1:8000/cb/")
    assert not client.redirects_to("http://127.0.0.1:8000/cb?x")
