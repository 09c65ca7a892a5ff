"""The scope-down Cognito applies to guests in the enhanced flow.

`GetCredentialsForIdentity` for an unauthenticated identity passes two
session policies to STS: an inline one allowing the services the developer
guide lists for guests, and the managed
`AmazonCognitoUnAuthedIdentitiesSessionPolicy`. The guest's permissions are
the role's policies intersected with the union of the two, so a guest role
that allows `iam:*` still cannot call IAM; through the classic flow
(`GetOpenIdToken`, then `AssumeRoleWithWebIdentity`) it can, which is one
reason that flow stays off. Both lists, with the AWS pages they come from,
are in `guest_scope_down.json`.
https://docs.aws.amazon.com/cognito/latest/developerguide/iam-roles.html#access-policies
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from sandbox.sts.session_policies import SessionPolicy

DATA_FILE = Path(__file__).with_name("guest_scope_down.json")
INLINE_NAME = "Cognito's guest scope-down (inline session policy)"


@functools.cache
def guest_session_policies() -> tuple[SessionPolicy, ...]:
    """The inline and the managed session policy, read once from the data file."""
    data = json.loads(DATA_FILE.read_text())
    actions = [action for listed in data["inline"]["services"].values() for action in listed]
    inline = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "CognitoGuestServices", "Effect": "Allow", "Action": actions, "Resource": "*"}],
    }
    managed = data["managed"]
    return (
        SessionPolicy(INLINE_NAME, json.dumps(inline)),
        SessionPolicy(managed["arn"], json.dumps(managed["document"])),
    )
