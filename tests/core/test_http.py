"""The JSON limits of core.http, through the one JSON API that reads a
body (POST /api/photos) with a signed-in user's test client: every body an
attacker can send is a 400 {"error": ...}, never a 500, and the detail is
logged rather than shown."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from core.http import JSON_MAX_DEPTH, JsonBodyRefused, TOO_LARGE, json_object_read
from uploads.api import BAD_REGISTER, BODY_MAX as REGISTER_BODY_MAX

API = "/api/photos"
SHAPE = BAD_REGISTER


@pytest.fixture
def member_client(shared_site, make_user, sign_in) -> Client:
    return sign_in(make_user())


def _post(client: Client, body: bytes, **extra):
    return client.post(API, data=body, content_type="application/json", **extra)


def _nested(size: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    half = size // 2
    return open_ * half + close * half


# Body -> the message the person sees (the shape message unless the size is the problem).
HOSTILE = [
    pytest.param(_nested(4000), SHAPE, id="4,000-byte nested array"),
    pytest.param(_nested(4000, b'{"a":', b"}")[: REGISTER_BODY_MAX - 10], SHAPE, id="deep nested objects, cut short"),
    pytest.param(b'{"key": ' + _nested(JSON_MAX_DEPTH * 2) + b"}", SHAPE, id="deep value inside an object"),
    pytest.param(b'{"key": "' + b"x" * (REGISTER_BODY_MAX + 1) + b'"}', TOO_LARGE, id="over the size limit"),
    pytest.param(b'{"key": "\xc3\x28"}', SHAPE, id="invalid UTF-8"),
    pytest.param(b"\xef\xbb\xbf{}", SHAPE, id="UTF-8 byte order mark"),
    pytest.param('{"key": "x"}'.encode("utf-16"), SHAPE, id="UTF-16"),
    pytest.param(b"[1, 2]", SHAPE, id="an array at the top"),
    pytest.param(b"42", SHAPE, id="a number at the top"),
    pytest.param(b'{"key": 1e999999}', SHAPE, id="a number too large for a float"),
    pytest.param(b'{"key": ' + b"9" * 3000 + b"}", SHAPE, id="a 3,000-digit integer"),
    pytest.param(b'{"key": true}', SHAPE, id="a boolean key"),
    pytest.param(b'{"key": "k", "title": ["t"]}', SHAPE, id="a list title"),
    pytest.param(b'{"key": "\\ud800"}', SHAPE, id="a lone surrogate"),
    pytest.param(b"{" + b'"a": 1,' * 500 + b'"key": 1}', SHAPE, id="many keys, wrong type"),
]


@pytest.mark.parametrize("body, message", HOSTILE)
def test_a_hostile_json_body_is_a_400_with_a_fixed_message(member_client, body, message):
    """POST /api/photos with a hostile body: 400 {"error": <fixed message>}, no-store, never a 500."""
    response = _post(member_client, body)
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {"error": message}


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(member_client):
    """A Content-Length over the limit is refused on the header alone (the body is never read)."""
    response = _post(member_client, b"{}", CONTENT_LENGTH=str(REGISTER_BODY_MAX * 1000))
    assert response.status_code == 400
    assert response.json() == {"error": TOO_LARGE}


def test_the_reason_is_logged_not_shown(member_client, caplog):
    """The nested array's refusal names the depth in the log; the answer says nothing about it."""
    response = _post(member_client, _nested(4000))
    assert "depth" not in response.content.decode()
    assert any("depth" in r.getMessage() and r.name == "core.http" for r in caplog.records)


# What json_object_read accepts, checked on the parsed value.
ACCEPTED = [
    pytest.param(b'{"key": "k"}', {"key": "k"}, id="required only"),
    pytest.param(b'{"key": "k", "title": "t"}', {"key": "k", "title": "t"}, id="with the optional field"),
    pytest.param(b'{"key": "[[[[", "title": "{{{{"}', {"key": "[[[[", "title": "{{{{"}, id="brackets inside strings"),
    pytest.param(b'{"key": "\\"[[[["}', {"key": '"[[[['}, id="an escaped quote before brackets"),
    pytest.param(b'{"key": "k", "extra": [[1]]}', {"key": "k", "extra": [[1]]}, id="shallow extra field kept"),
]


@pytest.mark.parametrize("body, expected", ACCEPTED)
def test_json_object_read_accepts_well_formed_bodies(rf, body, expected):
    """A well-formed object within the limits comes back parsed, brackets inside strings not counted as depth."""
    request = rf.post(API, data=body, content_type="application/json")
    assert json_object_read(request, max_bytes=REGISTER_BODY_MAX, required={"key": str}, optional={"title": str}, invalid=SHAPE) == expected


@pytest.mark.parametrize("depth, refused", [(JSON_MAX_DEPTH, False), (JSON_MAX_DEPTH + 1, True)])
def test_the_depth_limit_is_exact(rf, depth, refused):
    """JSON_MAX_DEPTH levels of nesting (the top object included) pass; one more is refused."""
    body = json.dumps({"key": "k", "extra": json.loads("[" * (depth - 1) + "]" * (depth - 1))}).encode()
    request = rf.post(API, data=body, content_type="application/json")
    read = lambda: json_object_read(request, max_bytes=REGISTER_BODY_MAX, required={"key": str}, invalid=SHAPE)  # noqa: E731
    if refused:
        with pytest.raises(JsonBodyRefused):
            read()
    else:
        assert read()["key"] == "k"
