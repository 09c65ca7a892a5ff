"""A stand-in for a public app client, for the labs whose attack needs a
user-pool token in the user's own hands (lab 5: alice's access token for
UpdateUserAttributes; lab 7: a copy of her ID token).

Photoshare never lets a token leave its server, and its app client has a
secret, so InitiateAuth needs a SECRET_HASH no user can compute: as shipped,
no user ever holds a token. Most Cognito deployments also have a public
client (a single-page or mobile app, no secret), which gives each user her
tokens and carries the pool IDs and the bucket in its configuration. Standing in for one, this module
reads those IDs and the client's secret from the deployment file, which no
outsider has, and says so in a step line, as lab 4 says it uses the admin key.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.cognito import secret_hash
from core.deployment import deployment_get
from workshop.outsider import Outsider


@dataclass(frozen=True)
class UserPoolSession:
    id_token: str
    access_token: str
    provider: str  # the identity pool's login key for the user pool
    identity_pool_id: str
    bucket: str


def user_pool_sign_in(outsider: Outsider, *, email: str, password: str) -> UserPoolSession:
    """`email` signs in to the user pool herself (InitiateAuth USER_PASSWORD_AUTH),
    as a public client would let her; botocore's ClientError if refused."""
    deployment = deployment_get()
    outsider.step(
        "Stand-in, said so: Photoshare keeps every token on its server and its app client has a secret, so no user "
        "holds one. A public client (a mobile or single-page app) would give her her own tokens; standing in for one, "
        "the lab reads the client ID, its secret, the pool IDs and the bucket from the deployment file"
    )
    outsider.step(f"{email} signs in to the user pool herself: InitiateAuth USER_PASSWORD_AUTH")
    answer = outsider.client("cognito-idp").initiate_auth(
        ClientId=deployment.app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": email,
            "PASSWORD": password,
            "SECRET_HASH": secret_hash(email, client_id=deployment.app_client_id, client_secret=deployment.app_client_secret),
        },
    )["AuthenticationResult"]
    outsider.got(f"{email}'s ID token and access token")
    return UserPoolSession(
        id_token=answer["IdToken"],
        access_token=answer["AccessToken"],
        provider=deployment.provider,
        identity_pool_id=deployment.identity_pool_id,
        bucket=deployment.bucket,
    )
