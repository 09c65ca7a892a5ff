"""The errors Cognito Identity answers with, worded as AWS words them where
its answers have been seen (the API reference lists codes, not texts)."""

from __future__ import annotations

from sandbox.errors import AwsError

LOGINS_DONT_MATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
UNSUPPORTED_PROVIDER = "Token is not from a supported provider of this identity pool."
NO_GUESTS = "Unauthenticated access is not supported for this identity pool."
BAD_POOL_CONFIG = "Invalid identity pool configuration. Check assigned IAM roles for this pool."
MAPPING_DENIED = "The ambiguous role mapping rules denied this request"  # AmbiguousRoleResolution: Deny (amplify-js#8644)
CLASSIC_FLOW_OFF = "Basic (classic) flow is not enabled, please use enhanced flow."


def not_authorized(message: str) -> AwsError:
    return AwsError("NotAuthorizedException", message)


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message)


def bad_pool_configuration() -> AwsError:
    """No role for this caller, or a role whose trust policy does not let this
    pool assume it."""
    return AwsError("InvalidIdentityPoolConfigurationException", BAD_POOL_CONFIG)
