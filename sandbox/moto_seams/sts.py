"""moto's STS: minting role sessions, and finding the ones it minted.

Identity-pool credentials are minted through moto's STS, so that
`GetCallerIdentity` and every moto backend know them as AWS would; the
gateway adds the web-identity context moto knows nothing about
(`sandbox/sts/sessions.py`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from moto.sts.models import sts_backends

from sandbox.moto_seams.core import ACCOUNT_ID, PARTITION
from sandbox.moto_seams.iam import KnownKey


@dataclass(frozen=True)
class Minted:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime  # aware, UTC
    arn: str  # arn:aws:sts::<account>:assumed-role/<Role>/<session>
    user_id: str  # <role id>:<session>, the value of ${aws:userid}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def mint_role_session(*, role_arn: str, session_name: str, duration_seconds: int, region: str) -> Minted:
    """Temporary credentials for `role_arn`, minted by moto's STS."""
    sts = sts_backends[ACCOUNT_ID][PARTITION]
    assumed = sts.assume_role_with_web_identity(
        region_name=region,
        role_session_name=session_name,
        role_arn=role_arn,
        policy=None,
        duration=duration_seconds,
        external_id=None,
    )
    return Minted(
        access_key_id=assumed.access_key_id,
        secret_access_key=assumed.secret_access_key,
        session_token=assumed.session_token,
        expiration=_aware(assumed.expiration),
        arn=assumed.arn,
        user_id=assumed.user_id,
    )


def session_key(access_key_id: str) -> KnownKey | None:
    """A session moto minted (e.g. `sts:AssumeRole`), or None."""
    assumed = sts_backends[ACCOUNT_ID][PARTITION].get_assumed_role_from_access_key(access_key_id)
    if assumed is None:
        return None
    return KnownKey(
        secret_access_key=assumed.secret_access_key,
        session_token=assumed.session_token,
        expiration=_aware(assumed.expiration),
        principal_arn=assumed.role_arn,
        caller_arn=assumed.arn,
        user_id=assumed.user_id,
        user_name=None,
    )
