"""A local OpenID Connect provider under `/_sandbox/oidc`: the stand-in for
Google or a company's SSO, so an identity pool can federate with an OIDC
provider offline.

- `clients.py`: the relying parties, registered by configuration;
- `people.py`: who may sign in (anyone), their `sub` and `hd`;
- `keys.py`: the signing key, kept in the data directory;
- `provider.py`: the rules (authorization code with PKCE S256, codes, tokens);
- `pages.py` and `sign_in.css`: the sign-in and error pages;
- `routes.py`: the HTTP endpoints, answered by the gateway before its lock.

Issuer: `<sandbox endpoint>/_sandbox/oidc`, from the address the server
listens on (or `--oidc-issuer`), never from a request's `Host`, which any
client can set and would then see in tokens' `iss` and in the discovery
document's endpoints.
"""

from sandbox.oidc.clients import BadClient, Client, client_parse, clients_index
from sandbox.oidc.keys import signing_key_load
from sandbox.oidc.people import DEFAULT_HOSTED_DOMAINS, hosted_domain_parse
from sandbox.oidc.provider import Provider, issuer_check
from sandbox.oidc.routes import PREFIX, oidc_answer, oidc_route

__all__ = [
    "DEFAULT_HOSTED_DOMAINS",
    "PREFIX",
    "BadClient",
    "Client",
    "Provider",
    "client_parse",
    "clients_index",
    "hosted_domain_parse",
    "issuer_check",
    "oidc_answer",
    "oidc_route",
    "signing_key_load",
]
