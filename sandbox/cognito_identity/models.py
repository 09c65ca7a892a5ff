"""The identity pools of this process: pools, identities and the logins
linked to them.

moto's backends are process-wide, and so is this state; the data directory
keeps it across restarts (`sandbox/persistence.py`). Identity IDs are stable
per login, which is what lets an IAM policy name a user's prefix by
`${cognito-identity.amazonaws.com:sub}`.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

TOKEN_PROVIDER = "cognito-identity.amazonaws.com"  # the `Logins` key of the pool's own OpenID tokens

@dataclass
class IdentityPool:
    id: str
    description: dict[str, Any]  # as DescribeIdentityPool returns it
    roles: dict[str, str] = field(default_factory=dict)
    role_mappings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Identity:
    id: str
    pool_id: str
    logins: dict[str, str] = field(default_factory=dict)  # provider -> subject (the token's sub)
    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)
    # Developer-authenticated users (`developer.py`): an identity may have
    # several (MergeDeveloperIdentities). The provider stays set once linked,
    # so an identity whose last user was unlinked is not a guest's: AWS makes
    # it inaccessible. Immutable defaults keep older pickles loadable.
    developer_provider: str | None = None
    developer_users: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        developer = [self.developer_provider] if self.developer_provider and self.developer_users else []
        return {
            "IdentityId": self.id,
            "Logins": sorted([*self.logins, *developer]),
            "CreationDate": self.created,
            "LastModifiedDate": self.modified,
        }


@dataclass(frozen=True)
class Login:
    """A verified ID token presented in `Logins`: a user pool's (`kind`
    "user_pool") or an OpenID Connect provider's ("oidc")."""

    provider: str  # the `Logins` key
    client_id: str  # the token's `aud` the pool accepted
    subject: str
    claims: dict[str, Any]
    kind: str = "user_pool"

    @property
    def amr(self) -> list[str]:
        if self.kind == "oidc":
            return ["authenticated", self.provider, f"{self.provider}:OAuth:{self.subject}"]
        return ["authenticated", self.provider, f"{self.provider}:CognitoSignIn:{self.subject}"]

    @property
    def mapping_key(self) -> str:
        """Its `RoleMappings` key: a user pool's names the app client too, an
        OpenID Connect provider's is its name alone."""
        return self.provider if self.kind == "oidc" else f"{self.provider}:{self.client_id}"


class _State:
    """All identity pools of this process. Callers hold `lock` across a
    read-then-write (a GetId that finds no linked identity and makes one)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.pools: dict[str, IdentityPool] = {}
        self.identities: dict[str, Identity] = {}
        self.linked: dict[tuple[str, str, str], str] = {}  # (pool, provider, subject) -> identity

    def identity_create(self, pool: IdentityPool, region: str) -> Identity:
        identity = Identity(id=f"{region}:{uuid.uuid4()}", pool_id=pool.id)
        self.identities[identity.id] = identity
        return identity

    def login_link(self, identity: Identity, login: Login) -> None:
        identity.logins[login.provider] = login.subject
        identity.modified = time.time()
        self.linked[(identity.pool_id, login.provider, login.subject)] = identity.id

    def linked_identity(self, pool_id: str, login: Login) -> str | None:
        if login.provider == TOKEN_PROVIDER:
            return login.subject  # the pool's own OpenID token names its identity (checked by developer.py)
        return self.linked.get((pool_id, login.provider, login.subject))

    def pool_delete(self, pool_id: str) -> None:
        """The pool, its identities and their links."""
        del self.pools[pool_id]
        for identity_id in [i.id for i in self.identities.values() if i.pool_id == pool_id]:
            del self.identities[identity_id]
        for key in [k for k in self.linked if k[0] == pool_id]:
            del self.linked[key]

    def snapshot(self) -> dict[str, Any]:
        """What persists across restarts: pools, identities and linked logins."""
        with self.lock:
            return {"pools": dict(self.pools), "identities": dict(self.identities), "linked": dict(self.linked)}

    def restore(self, saved: dict[str, Any]) -> None:
        with self.lock:
            self.pools, self.identities, self.linked = dict(saved["pools"]), dict(saved["identities"]), dict(saved["linked"])


STATE = _State()
