"""moto's IAM: the policies the gateway evaluates, the long-term keys of
IAM users, and the OpenID Connect providers identity pools federate with.

moto stores roles, users and their policies but enforces none of them; the
gateway does, so it reads each principal's policy documents from here.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from moto.core.responses import EmptyResult
from moto.iam.exceptions import InvalidInput, LimitExceededException, ValidationError
from moto.iam.models import OpenIDConnectProvider, iam_backends
from moto.iam.responses import IamResponse

from sandbox.moto_seams.core import ACCOUNT_ID, PARTITION


@dataclass(frozen=True)
class RoleView:
    arn: str
    name: str
    role_id: str
    trust_policy: str  # JSON text, parsed (and cached) by the evaluator
    policies: tuple[str, ...]  # inline and attached managed policy documents (JSON text)
    # What each of `policies` is called, for explanations: "<role>/<inline name>" or the managed policy's ARN.
    policy_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnownKey:
    """An access key moto issued, as the request authenticator needs it."""

    secret_access_key: str
    session_token: str | None  # None for an IAM user's long-term key
    expiration: dt.datetime | None
    principal_arn: str  # the role ARN for a session, the user ARN for a user
    caller_arn: str
    user_id: str
    user_name: str | None
    active: bool = True


@dataclass(frozen=True)
class OidcProviderView:
    """An IAM OpenID Connect provider as the identity pool needs it."""

    arn: str
    name: str  # host and path, as IAM stores it and `Logins` keys it
    url: str  # with its scheme: what the tokens' `iss` must be
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]


LOOPBACK_NAMES = frozenset({"localhost"})


def loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: a host this machine answers itself."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def provider_url_problem(url: str) -> str | None:
    """Why the sandbox refuses a provider URL, or None. AWS requires https://
    and checks the TLS certificate against its CAs or the thumbprints; the
    sandbox cannot verify a thumbprint offline, so it allows plain http only
    where no network is crossed (a loopback host), and never a query, a
    fragment or credentials in the URL (an OIDC issuer has none)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "The URL must begin with https:// and name a host."
    if parts.scheme == "http" and not loopback_host(parts.hostname):
        return "The sandbox accepts http:// provider URLs only on a loopback host (127.0.0.1, ::1, localhost); use https://."
    if parts.query or parts.fragment or "@" in parts.netloc:
        return "The URL may not contain a query, a fragment or credentials."
    return None


def _oidc_provider_init(original: Any) -> Any:
    def __init__(self: OpenIDConnectProvider, account_id: str, region_name: str, url: str, *args: Any, **kwargs: Any) -> None:
        problem = provider_url_problem(url) if isinstance(url, str) else "The URL must be a string."
        if problem is not None:
            raise InvalidInput(problem)
        original(self, account_id, region_name, url, *args, **kwargs)
        # moto keeps host and path only, as IAM shows it; the scheme says how
        # to reach the keys and what `iss` must be.
        self.sandbox_scheme = urlsplit(url).scheme

    return __init__


MAX_CLIENT_IDS = 100  # IAM's quota of client IDs per OpenID Connect provider


def _client_id_param(response: IamResponse) -> str:
    client_id = response._get_param("ClientID")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 255:
        raise ValidationError("ClientID must be between 1 and 255 characters.")
    return client_id


def _add_client_id(response: IamResponse) -> EmptyResult:
    """`AddClientIDToOpenIDConnectProvider`, which moto lacks; idempotent, as AWS documents."""
    provider = response.backend.get_open_id_connect_provider(response._get_param("OpenIDConnectProviderArn"))
    client_id = _client_id_param(response)
    if client_id not in provider.client_id_list:
        if len(provider.client_id_list) >= MAX_CLIENT_IDS:
            raise LimitExceededException(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
        provider.client_id_list.append(client_id)
    return EmptyResult()


def _remove_client_id(response: IamResponse) -> EmptyResult:
    """`RemoveClientIDFromOpenIDConnectProvider`, which moto lacks; removing one that is not there does nothing."""
    provider = response.backend.get_open_id_connect_provider(response._get_param("OpenIDConnectProviderArn"))
    client_id = _client_id_param(response)
    if client_id in provider.client_id_list:
        provider.client_id_list.remove(client_id)
    return EmptyResult()


def install() -> None:
    """Provider URLs checked as `provider_url_problem` says, their scheme kept;
    a provider's client IDs changed in place (provisioning repairs a provider
    without deleting it, which would break every pool that names it).
    Idempotent only through `moto_seams.install()`."""
    OpenIDConnectProvider.__init__ = _oidc_provider_init(OpenIDConnectProvider.__init__)  # type: ignore[method-assign]
    IamResponse.add_client_id_to_open_id_connect_provider = _add_client_id  # type: ignore[attr-defined]
    IamResponse.remove_client_id_from_open_id_connect_provider = _remove_client_id  # type: ignore[attr-defined]


def oidc_provider_arn(name: str) -> str:
    """The ARN IAM gives the provider at `name` (host and path, no scheme)."""
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{name}"


def oidc_provider_arn_for_url(url: str) -> str:
    parts = urlsplit(url)
    return oidc_provider_arn(parts.netloc + parts.path)


def oidc_provider(arn: str) -> OidcProviderView | None:
    """The IAM OpenID Connect provider `arn` names, or None."""
    provider = _iam().open_id_providers.get(arn)
    if provider is None:
        return None
    scheme = getattr(provider, "sandbox_scheme", "https")  # one made before this seam: AWS's only scheme
    return OidcProviderView(
        arn=provider.arn,
        name=provider.url,
        url=f"{scheme}://{provider.url}",
        client_ids=tuple(provider.client_id_list),
        thumbprints=tuple(provider.thumbprint_list),
    )


def _iam() -> Any:
    return iam_backends[ACCOUNT_ID][PARTITION]


def _default_document(managed: Any) -> str:
    return next(v.document for v in managed.versions if v.is_default)


def role_by_arn(arn: str) -> RoleView | None:
    try:
        role = _iam().get_role_by_arn(arn)
    except Exception:  # moto raises its own IAMNotFoundException; absence is all we need
        return None
    documents = [*role.policies.values(), *(_default_document(p) for p in role.managed_policies.values())]
    names = [*(f"{role.name}/{name}" for name in role.policies), *(p.arn for p in role.managed_policies.values())]
    trust = role.assume_role_policy_document
    return RoleView(
        arn=role.arn,
        name=role.name,
        role_id=role.id,
        trust_policy=trust if isinstance(trust, str) else json.dumps(trust),
        policies=tuple(documents),
        policy_names=tuple(names),
    )


def user_policies(user_name: str) -> tuple[str, ...]:
    """An IAM user's inline, attached, and group policy documents."""
    return tuple(document for _, document in named_user_policies(user_name))


def named_user_policies(user_name: str) -> tuple[tuple[str, str], ...]:
    """(name, document) for each of an IAM user's inline, attached and group
    policies: "<user>/<inline name>", "<group>/<inline name>" or the managed policy's ARN."""
    iam = _iam()
    user = iam.get_user(user_name)
    named = [*((f"{user.name}/{n}", d) for n, d in user.policies.items())]
    named += [(p.arn, _default_document(p)) for p in user.managed_policies.values()]
    for group in iam.get_groups_for_user(user_name):
        named += [*((f"{group.name}/{n}", d) for n, d in group.policies.items())]
        named += [(p.arn, _default_document(p)) for p in group.managed_policies.values()]
    return tuple(named)


def user_key(access_key_id: str) -> KnownKey | None:
    """An IAM user's long-term access key, or None."""
    user = _iam().get_user_from_access_key_id(access_key_id)
    if user is None:
        return None
    key = next(k for k in user.access_keys if k.access_key_id == access_key_id)
    return KnownKey(
        secret_access_key=key.secret_access_key,
        session_token=None,
        expiration=None,
        principal_arn=user.arn,
        caller_arn=user.arn,
        user_id=user.id,
        user_name=user.name,
        active=key.status == "Active",
    )


def managed_policy_document(arn: str) -> str | None:
    """A managed policy's default version (JSON text), or None if IAM has no such policy."""
    try:
        managed = _iam().get_policy(arn)
    except Exception:  # moto raises its own IAMNotFoundException; absence is all we need
        return None
    document = _default_document(managed)
    return document if isinstance(document, str) else json.dumps(document)
