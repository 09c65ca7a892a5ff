"""Rate limits that one client cannot turn against another, and the one
client address they (and the guest limit and the audit trail) are keyed on:
sign-in through the test client against the sandbox, from addresses the
test client sets as REMOTE_ADDR and X-Forwarded-For."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from accounts import views
from accounts.models import AuditEvent
from accounts.ratelimit import address_key
from core.http import client_address
from tests.accounts.test_views import SIGN_IN, clear_of_window_edge
from tests.actors import STRONG_PASSWORD

WRONG = "Wrong-Password-1!"
X, Y = "198.51.100.20", "203.0.113.30"  # two clients (documentation ranges)
BALANCER = "10.0.0.5"  # a load balancer: REMOTE_ADDR of every request behind it


def _sign_in(email: str, password: str, **meta: str):
    return Client().post(SIGN_IN, {"email": email, "password": password}, **meta)


def _fail_until_limited(email: str, **meta: str) -> None:
    attempts, window = views.SIGN_IN_LIMITS["account+client"]
    clear_of_window_edge(window)
    for _ in range(attempts):
        assert _sign_in(email, WRONG, **meta).status_code == 400
    assert _sign_in(email, WRONG, **meta).status_code == 429


def test_failures_from_one_client_do_not_lock_out_another(shared_site, make_user):
    """Five failures from X lock X out of that account; the right password from Y still signs in."""
    email = make_user()
    _fail_until_limited(email, REMOTE_ADDR=X)
    assert _sign_in(email, STRONG_PASSWORD, REMOTE_ADDR=X).status_code == 429
    assert _sign_in(email, STRONG_PASSWORD, REMOTE_ADDR=Y).status_code == 302


def test_a_client_hammering_one_account_cannot_use_up_its_account_counter(shared_site, make_user, monkeypatch):
    """Attempts refused per account+client are not counted per account: X's 20 tries add only 5 to the account's 6."""
    monkeypatch.setitem(views.SIGN_IN_LIMITS, "account", (6, 300))
    email = make_user()
    _fail_until_limited(email, REMOTE_ADDR=X)
    for _ in range(14):
        assert _sign_in(email, WRONG, REMOTE_ADDR=X).status_code == 429
    assert _sign_in(email, STRONG_PASSWORD, REMOTE_ADDR=Y).status_code == 302


def test_distributed_guessing_meets_the_per_account_limit(shared_site, make_user, monkeypatch):
    """Many addresses, one failure each: past the per-account limit the account refuses everyone, 429."""
    monkeypatch.setitem(views.SIGN_IN_LIMITS, "account", (4, 300))
    email = make_user()
    clear_of_window_edge(300)
    for i in range(4):
        assert _sign_in(email, WRONG, REMOTE_ADDR=f"192.0.2.{i + 1}").status_code == 400
    response = _sign_in(email, STRONG_PASSWORD, REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


@pytest.mark.parametrize("forged", ["203.0.113.30", "203.0.113.30, 198.51.100.1", "garbage"])
def test_a_forged_x_forwarded_for_is_ignored_by_default(shared_site, make_user, forged):
    """TRUSTED_PROXY_COUNT=0: X cannot escape its limit, nor lock Y out, by sending X-Forwarded-For."""
    email = make_user()
    _fail_until_limited(email, REMOTE_ADDR=X, HTTP_X_FORWARDED_FOR=forged)
    assert _sign_in(email, STRONG_PASSWORD, REMOTE_ADDR=X, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429
    assert _sign_in(email, STRONG_PASSWORD, REMOTE_ADDR=Y).status_code == 302


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(shared_site, make_user, settings):
    """TRUSTED_PROXY_COUNT=1: all requests come from the balancer, and X-Forwarded-For tells X from Y."""
    settings.TRUSTED_PROXY_COUNT = 1
    email = make_user()
    _fail_until_limited(email, REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=f"192.0.2.77, {X}")
    assert _sign_in(email, STRONG_PASSWORD, REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=X).status_code == 429
    assert _sign_in(email, STRONG_PASSWORD, REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=Y).status_code == 302


def test_the_audit_trail_records_the_same_client_address(shared_site, settings):
    """A guest's issuance behind one trusted proxy is recorded with the client's address, not the balancer's."""
    settings.TRUSTED_PROXY_COUNT = 1
    response = Client().post("/api/credentials", REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=f"192.0.2.1, {Y}")
    assert response.status_code == 200
    assert AuditEvent.objects.get().client_ip == Y


# (TRUSTED_PROXY_COUNT, REMOTE_ADDR, X-Forwarded-For or None) -> the client address.
ADDRESSES = [
    pytest.param(0, X, None, X, id="no proxy, no header"),
    pytest.param(0, X, Y, X, id="no proxy: the header is the client's own words"),
    pytest.param(1, BALANCER, Y, Y, id="one proxy: its entry"),
    pytest.param(1, BALANCER, f"192.0.2.9, {Y}", Y, id="one proxy: what the client wrote before it is ignored"),
    pytest.param(2, BALANCER, f"192.0.2.9, {Y}, 10.0.0.9", Y, id="two proxies: second from the right"),
    pytest.param(1, BALANCER, f"{Y} ,  ", Y, id="spaces and an empty entry"),
    pytest.param(2, BALANCER, Y, BALANCER, id="fewer entries than proxies: REMOTE_ADDR"),
    pytest.param(1, BALANCER, None, BALANCER, id="no header behind a proxy: REMOTE_ADDR"),
    pytest.param(1, BALANCER, "not-an-ip", BALANCER, id="not an address: REMOTE_ADDR"),
    pytest.param(1, BALANCER, "192.0.2.1:443", BALANCER, id="address with a port: REMOTE_ADDR"),
    pytest.param(1, BALANCER, "2001:DB8::1", "2001:db8::1", id="IPv6, normalised"),
]


@pytest.mark.parametrize("proxies, remote, forwarded, expected", ADDRESSES)
def test_client_address(settings, proxies, remote, forwarded, expected):
    """client_address believes X-Forwarded-For exactly as far as TRUSTED_PROXY_COUNT says."""
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": remote} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {})
    assert client_address(RequestFactory().get("/", **meta)) == expected


@pytest.mark.parametrize(
    "address, key",
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("", ""),
    ],
)
def test_ipv6_clients_are_limited_per_64(address, key):
    """One IPv6 subscriber's /64 is one rate-limit key; an IPv4-mapped address is its IPv4 address."""
    assert address_key(address) == key
