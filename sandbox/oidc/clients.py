"""The relying parties this provider knows, registered by configuration
(`python -m sandbox --oidc-client CLIENT_ID:SECRET:REDIRECT_URI[,URI...]`),
as a client is registered in Google's console or a company's SSO.

Redirect URIs are compared as whole strings, exactly (OAuth 2.0 Security
BCP, RFC 9700 section 4.1: no prefix, wildcard or host-only matching),
because a loose match lets an attacker have the code sent to a page of
theirs on the same host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

_CLIENT_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")  # unreserved characters: no ':' (the separator), nothing to escape
_SECRET = re.compile(r"[\x21-\x7e]{8,256}")  # printable ASCII, no spaces


class BadClient(ValueError):
    """A client registration that cannot be used; the message says why."""


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    redirect_uris: tuple[str, ...]

    def redirects_to(self, uri: str) -> bool:
        return uri in self.redirect_uris


def client_parse(spec: str) -> Client:
    """`CLIENT_ID:SECRET:REDIRECT_URI[,URI...]`: the ID and the secret may not
    contain ':', so the rest (whose URIs do) splits cleanly."""
    client_id, _, rest = spec.partition(":")
    secret, _, uris = rest.partition(":")
    if not _CLIENT_ID.fullmatch(client_id):
        raise BadClient("the client ID must be 1-128 letters, digits or . _ ~ -")
    if not _SECRET.fullmatch(secret) or ":" in secret:
        raise BadClient(f"client {client_id}: the secret must be 8-256 printable ASCII characters without ':' or spaces")
    redirect_uris = tuple(uri for uri in uris.split(",") if uri)
    if not redirect_uris:
        raise BadClient(f"client {client_id}: give at least one redirect URI")
    for uri in redirect_uris:
        _redirect_uri_check(client_id, uri)
    return Client(client_id=client_id, secret=secret, redirect_uris=redirect_uris)


def _redirect_uri_check(client_id: str, uri: str) -> None:
    """An absolute http(s) URI without a fragment (RFC 6749 section 3.1.2)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        raise BadClient(f"client {client_id}: {uri!r} is not a URI") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or "#" in uri:
        raise BadClient(f"client {client_id}: {uri!r} must be an absolute http(s) URI without a fragment")
    if not uri.isascii() or any(c.isspace() or c in '<>"' for c in uri):
        raise BadClient(f"client {client_id}: {uri!r} has characters a URI may not contain")


def clients_index(clients: Iterable[Client | str]) -> dict[str, Client]:
    """Clients by ID, from `Client`s or specs; one ID registered twice is refused."""
    index: dict[str, Client] = {}
    for item in clients:
        client = client_parse(item) if isinstance(item, str) else item
        if client.client_id in index:
            raise BadClient(f"client {client.client_id} is registered twice")
        index[client.client_id] = client
    return index
