"""Credentials the sandbox issued, with the web-identity context IAM evaluates
them in.

A session minted for an identity pool carries condition keys that moto knows
nothing about: `cognito-identity.amazonaws.com:sub` (the identity ID), `:aud`
(the pool) and `:amr`. The gateway's authentication finds them here by access key.

A session also carries its session policies (`session_policies.py`): the
`Policy` / `PolicyArns` of `AssumeRole*`, or the scope-down Cognito passes for
guests. Authorization reads them here by access key, so whatever keeps a
session keeps what narrows it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sandbox import moto_seams
from sandbox.sts.session_policies import SessionPolicy

COGNITO_SESSION_NAME = "CognitoIdentityCredentials"  # what AWS names enhanced-flow sessions


@dataclass(frozen=True)
class Session:
    credentials: moto_seams.sts.Minted
    role_arn: str
    context: Mapping[str, str | Sequence[str]]  # lower-cased condition keys
    issued: dt.datetime  # aware, UTC: CloudTrail's sessionContext.attributes.creationDate
    policies: tuple[SessionPolicy, ...] = ()  # empty: the role's policies alone decide


_sessions: dict[str, Session] = {}
_lock = threading.Lock()


def session_create(
    *,
    role_arn: str,
    context: Mapping[str, str | Sequence[str]],
    duration_seconds: int,
    region: str,
    session_name: str = COGNITO_SESSION_NAME,
    policies: Sequence[SessionPolicy] = (),
) -> Session:
    minted = moto_seams.sts.mint_role_session(
        role_arn=role_arn, session_name=session_name, duration_seconds=duration_seconds, region=region
    )
    now = dt.datetime.now(dt.timezone.utc)
    session = Session(
        credentials=minted, role_arn=role_arn, context={k.lower(): v for k, v in context.items()}, issued=now,
        policies=tuple(policies),
    )
    with _lock:
        # Expired sessions are answered from moto's record (ExpiredToken), so ours can go.
        for key in [k for k, s in _sessions.items() if s.credentials.expiration < now - dt.timedelta(hours=1)]:
            del _sessions[key]
        _sessions[minted.access_key_id] = session
    return session


def session_get(access_key_id: str) -> Session | None:
    return _sessions.get(access_key_id)


def session_policies(access_key_id: str | None) -> tuple[SessionPolicy, ...]:
    """The session policies of a session we issued; none for any other key."""
    session = _sessions.get(access_key_id) if access_key_id else None
    return session.policies if session is not None else ()
