"""The AWS admin plane that `provision`, `deprovision`, `seed_demo_users` and
`doctor` drive: Cognito user pools and identity pools, IAM roles, and the
bucket's configuration. The only module in `infra/` that calls AWS.

Each function is one AWS call (or one paginated listing) with keyword-only
arguments, so the callers read as a list of decisions, not of API plumbing.
Clients and errors come from `core.aws`: botocore's errors become a few
exceptions named for what a caller branches on (`NotFound`, `AlreadyExists`,
`AccessDenied`, `Unreachable`); everything else is `AwsCallError` with AWS's
code kept for the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings

from core.aws import aws_client, aws_errors, aws_translated

# Re-exported: the callers branch on `aws.NotFound`, `aws.AlreadyExists`...
from core.aws import AccessDenied, AlreadyExists, AwsCallError, NoCredentials, NotFound, Unreachable  # noqa: F401

PAGE_SIZE = 60  # items per page; the Cognito list APIs' maximum


def _client(service: str) -> Any:
    return aws_client(service)


def _pages(call: Callable[..., dict[str, Any]], items: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Cognito listing that pages with NextToken."""
    token = None
    while True:
        page = call(**params, **({"NextToken": token} if token else {}))
        yield from page.get(items, [])
        token = page.get("NextToken")
        if not token:
            return


# --- user pools (cognito-idp) ----------------------------------------------------------


@aws_translated
def user_pool_ids_by_name(*, name: str) -> list[str]:
    """User pool names are not unique on AWS, so all matches are returned."""
    idp = _client("cognito-idp")
    return [p["Id"] for p in _pages(idp.list_user_pools, "UserPools", MaxResults=PAGE_SIZE) if p["Name"] == name]


@aws_translated
def user_pool_create(*, name: str, config: dict[str, Any]) -> str:
    return _client("cognito-idp").create_user_pool(PoolName=name, **config)["UserPool"]["Id"]


@aws_translated
def user_pool_describe(*, pool_id: str) -> dict[str, Any]:
    return _client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]


@aws_translated
def user_pool_update(*, pool_id: str, config: dict[str, Any]) -> None:
    """UpdateUserPool resets every setting it is not given to its default,
    so `config` must be the whole updatable configuration.
    https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UpdateUserPool.html"""
    _client("cognito-idp").update_user_pool(UserPoolId=pool_id, **config)


@aws_translated
def user_pool_custom_attribute_add(*, pool_id: str, name: str) -> None:
    """AddCustomAttributes: a mutable string attribute `custom:<name>`. Cognito
    can never remove a custom attribute again, so only workshop lab 5 adds one.
    https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AddCustomAttributes.html"""
    _client("cognito-idp").add_custom_attributes(
        UserPoolId=pool_id, CustomAttributes=[{"Name": name, "AttributeDataType": "String", "Mutable": True}]
    )


@aws_translated
def user_pool_delete(*, pool_id: str) -> None:
    _client("cognito-idp").delete_user_pool(UserPoolId=pool_id)


@aws_translated
def app_client_ids_by_name(*, pool_id: str, name: str) -> list[str]:
    idp = _client("cognito-idp")
    clients = _pages(idp.list_user_pool_clients, "UserPoolClients", UserPoolId=pool_id, MaxResults=PAGE_SIZE)
    return [c["ClientId"] for c in clients if c["ClientName"] == name]


@aws_translated
def app_client_create(*, pool_id: str, name: str, config: dict[str, Any]) -> dict[str, Any]:
    idp = _client("cognito-idp")
    return idp.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **config)["UserPoolClient"]


@aws_translated
def app_client_describe(*, pool_id: str, client_id: str) -> dict[str, Any]:
    return _client("cognito-idp").describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]


@aws_translated
def app_client_update(*, pool_id: str, client_id: str, name: str, config: dict[str, Any]) -> None:
    """Like UpdateUserPool, anything left out is reset (ExplicitAuthFlows,
    ReadAttributes, WriteAttributes...), so `config` is the whole of it."""
    _client("cognito-idp").update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, ClientName=name, **config)


@aws_translated
def group_get(*, pool_id: str, name: str) -> dict[str, Any]:
    return _client("cognito-idp").get_group(UserPoolId=pool_id, GroupName=name)["Group"]


@aws_translated
def group_create(*, pool_id: str, name: str, role_arn: str, precedence: int, description: str) -> None:
    _client("cognito-idp").create_group(
        UserPoolId=pool_id, GroupName=name, RoleArn=role_arn, Precedence=precedence, Description=description
    )


@aws_translated
def group_update(*, pool_id: str, name: str, role_arn: str, precedence: int, description: str) -> None:
    _client("cognito-idp").update_group(
        UserPoolId=pool_id, GroupName=name, RoleArn=role_arn, Precedence=precedence, Description=description
    )


@aws_translated
def user_get(*, pool_id: str, username: str) -> dict[str, Any]:
    """AdminGetUser, with `UserAttributes` turned into a name -> value dict."""
    user = _client("cognito-idp").admin_get_user(UserPoolId=pool_id, Username=username)
    user["UserAttributes"] = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
    return user


@aws_translated
def user_create(*, pool_id: str, email: str) -> None:
    """An admin-created user with a verified email and no invitation sent."""
    _client("cognito-idp").admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )


@aws_translated
def user_attributes_update(*, pool_id: str, username: str, attributes: dict[str, str]) -> None:
    _client("cognito-idp").admin_update_user_attributes(
        UserPoolId=pool_id, Username=username, UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()]
    )


@aws_translated
def user_password_set(*, pool_id: str, username: str, password: str) -> None:
    """A permanent password, which also confirms the user (no FORCE_CHANGE_PASSWORD)."""
    _client("cognito-idp").admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=password, Permanent=True
    )


@aws_translated
def user_groups(*, pool_id: str, username: str) -> list[str]:
    idp = _client("cognito-idp")
    groups = _pages(idp.admin_list_groups_for_user, "Groups", UserPoolId=pool_id, Username=username, Limit=PAGE_SIZE)
    return [g["GroupName"] for g in groups]


@aws_translated
def user_group_add(*, pool_id: str, username: str, group: str) -> None:
    _client("cognito-idp").admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


@aws_translated
def user_group_remove(*, pool_id: str, username: str, group: str) -> None:
    _client("cognito-idp").admin_remove_user_from_group(UserPoolId=pool_id, Username=username, GroupName=group)


# --- identity pools (cognito-identity) ----------------------------------------------------


@aws_translated
def identity_pool_ids_by_name(*, name: str) -> list[str]:
    identity = _client("cognito-identity")
    pools = _pages(identity.list_identity_pools, "IdentityPools", MaxResults=PAGE_SIZE)
    return [p["IdentityPoolId"] for p in pools if p["IdentityPoolName"] == name]


@aws_translated
def identity_pool_ids_all() -> list[str]:
    identity = _client("cognito-identity")
    return [p["IdentityPoolId"] for p in _pages(identity.list_identity_pools, "IdentityPools", MaxResults=PAGE_SIZE)]


@aws_translated
def identity_pool_create(*, config: dict[str, Any]) -> str:
    return _client("cognito-identity").create_identity_pool(**config)["IdentityPoolId"]


@aws_translated
def identity_pool_describe(*, identity_pool_id: str) -> dict[str, Any]:
    description = _client("cognito-identity").describe_identity_pool(IdentityPoolId=identity_pool_id)
    description.pop("ResponseMetadata", None)
    return description


@aws_translated
def identity_pool_update(*, identity_pool_id: str, config: dict[str, Any]) -> None:
    """UpdateIdentityPool replaces the whole configuration, providers included."""
    _client("cognito-identity").update_identity_pool(IdentityPoolId=identity_pool_id, **config)


@aws_translated
def identity_pool_delete(*, identity_pool_id: str) -> None:
    _client("cognito-identity").delete_identity_pool(IdentityPoolId=identity_pool_id)


@aws_translated
def identity_pool_roles_get(*, identity_pool_id: str) -> dict[str, Any]:
    """{"Roles": {...}, "RoleMappings": {...}}, both present even when empty."""
    result = _client("cognito-identity").get_identity_pool_roles(IdentityPoolId=identity_pool_id)
    return {"Roles": result.get("Roles", {}), "RoleMappings": result.get("RoleMappings", {})}


@aws_translated
def identity_pool_roles_set(*, identity_pool_id: str, roles: dict[str, str], role_mappings: dict[str, Any]) -> None:
    _client("cognito-identity").set_identity_pool_roles(
        IdentityPoolId=identity_pool_id, Roles=roles, RoleMappings=role_mappings
    )


# --- IAM roles ------------------------------------------------------------------------------


@aws_translated
def role_get(*, name: str) -> dict[str, Any]:
    """GetRole; `AssumeRolePolicyDocument` arrives already parsed (botocore
    URL-decodes and loads IAM policy documents)."""
    return _client("iam").get_role(RoleName=name)["Role"]


@aws_translated
def role_create(*, name: str, trust_policy: str, description: str) -> str:
    """The new role's ARN."""
    role = _client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, Description=description)
    return role["Role"]["Arn"]


@aws_translated
def role_trust_update(*, name: str, trust_policy: str) -> None:
    _client("iam").update_assume_role_policy(RoleName=name, PolicyDocument=trust_policy)


@aws_translated
def role_policy_names(*, role: str) -> list[str]:
    """The role's inline policies."""
    paginator = _client("iam").get_paginator("list_role_policies")
    return [name for page in paginator.paginate(RoleName=role) for name in page["PolicyNames"]]


@aws_translated
def role_policy_get(*, role: str, name: str) -> dict[str, Any]:
    return _client("iam").get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]


@aws_translated
def role_policy_put(*, role: str, name: str, document: str) -> None:
    _client("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)


@aws_translated
def role_policy_delete(*, role: str, name: str) -> None:
    _client("iam").delete_role_policy(RoleName=role, PolicyName=name)


@aws_translated
def role_attached_policy_arns(*, role: str) -> list[str]:
    """Managed policies attached to the role."""
    paginator = _client("iam").get_paginator("list_attached_role_policies")
    return [p["PolicyArn"] for page in paginator.paginate(RoleName=role) for p in page["AttachedPolicies"]]


@aws_translated
def role_policy_detach(*, role: str, policy_arn: str) -> None:
    _client("iam").detach_role_policy(RoleName=role, PolicyArn=policy_arn)


@aws_translated
def role_delete(*, name: str) -> None:
    """IAM refuses to delete a role that still has policies: remove them first."""
    _client("iam").delete_role(RoleName=name)


# --- IAM OpenID Connect providers -------------------------------------------------------------


@aws_translated
def oidc_provider_arns() -> list[str]:
    """Every OpenID Connect provider of the account (IAM does not page this listing)."""
    return [p["Arn"] for p in _client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]]


@aws_translated
def oidc_provider_get(*, arn: str) -> dict[str, Any]:
    """{"Url": host and path, no scheme; "ClientIDList"; "ThumbprintList"}."""
    provider = _client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    provider.pop("ResponseMetadata", None)
    return provider


@aws_translated
def oidc_provider_create(*, url: str, client_ids: list[str]) -> str:
    """The new provider's ARN. No thumbprint: IAM no longer needs one to
    trust a provider's certificate chain.
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html"""
    iam = _client("iam")
    return iam.create_open_id_connect_provider(Url=url, ClientIDList=client_ids)["OpenIDConnectProviderArn"]


@aws_translated
def oidc_provider_client_id_add(*, arn: str, client_id: str) -> None:
    _client("iam").add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=client_id)


@aws_translated
def oidc_provider_client_id_remove(*, arn: str, client_id: str) -> None:
    _client("iam").remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=client_id)


@aws_translated
def oidc_provider_delete(*, arn: str) -> None:
    _client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


# --- S3 bucket configuration ----------------------------------------------------------------


def bucket_exists(*, bucket: str) -> bool:
    """False when there is no such bucket; AccessDenied when it exists but is
    not ours (bucket names are global)."""
    try:
        with aws_errors("HeadBucket"):
            _client("s3").head_bucket(Bucket=bucket)
    except NotFound:
        return False
    return True


@aws_translated
def bucket_create(*, bucket: str) -> None:
    # us-east-1 is the one region that refuses a LocationConstraint naming itself.
    region = settings.AWS_REGION
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    _client("s3").create_bucket(Bucket=bucket, **location)


@aws_translated
def bucket_public_access_block_get(*, bucket: str) -> dict[str, bool]:
    return _client("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]


@aws_translated
def bucket_public_access_block_put(*, bucket: str, config: dict[str, bool]) -> None:
    _client("s3").put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=config)


@aws_translated
def bucket_cors_get(*, bucket: str) -> list[dict[str, Any]]:
    return _client("s3").get_bucket_cors(Bucket=bucket)["CORSRules"]


@aws_translated
def bucket_cors_put(*, bucket: str, rules: list[dict[str, Any]]) -> None:
    _client("s3").put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})


@aws_translated
def bucket_lifecycle_get(*, bucket: str) -> list[dict[str, Any]]:
    return _client("s3").get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


@aws_translated
def bucket_lifecycle_put(*, bucket: str, rules: list[dict[str, Any]]) -> None:
    _client("s3").put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})


@aws_translated
def bucket_versioning_get(*, bucket: str) -> str:
    """'Enabled', 'Suspended', or '' for a bucket that never kept versions
    (GetBucketVersioning then leaves Status out). Once enabled, versioning can
    only be suspended, never turned off again."""
    return _client("s3").get_bucket_versioning(Bucket=bucket).get("Status", "")


@aws_translated
def bucket_versioning_enable(*, bucket: str) -> None:
    _client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


@aws_translated
def bucket_empty(*, bucket: str) -> int:
    """Delete every object version and delete marker and abort every
    unfinished multipart upload, since S3 refuses to delete a bucket that has
    any of them; returns the versions deleted."""
    s3 = _client("s3")
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        keys = [{"Key": o["Key"], "VersionId": o["VersionId"]} for o in entries]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    return deleted


@aws_translated
def bucket_delete(*, bucket: str) -> None:
    _client("s3").delete_bucket(Bucket=bucket)


# --- DynamoDB: the albums table (issue 17) ---------------------------------------------

TABLE_WAIT_DELAY = 2  # seconds between DescribeTable calls while AWS creates or deletes a table
TABLE_WAIT_ATTEMPTS = 60  # at most two minutes; creating an on-demand table takes seconds


@aws_translated
def table_describe(*, name: str) -> dict[str, Any]:
    """DescribeTable's Table; NotFound (ResourceNotFoundException) when there is none."""
    return _client("dynamodb").describe_table(TableName=name)["Table"]


@aws_translated
def table_create(*, name: str, config: dict[str, Any]) -> dict[str, Any]:
    """CreateTable, then wait until the table is ACTIVE: on AWS it answers
    CREATING, and items cannot be written before it is ACTIVE."""
    dynamodb = _client("dynamodb")
    dynamodb.create_table(TableName=name, **config)
    waiter = dynamodb.get_waiter("table_exists")
    waiter.wait(TableName=name, WaiterConfig={"Delay": TABLE_WAIT_DELAY, "MaxAttempts": TABLE_WAIT_ATTEMPTS})
    return dynamodb.describe_table(TableName=name)["Table"]


@aws_translated
def table_billing_on_demand(*, name: str) -> None:
    """UpdateTable to PAY_PER_REQUEST: nothing to size, and no throttling at a workshop's bursts."""
    _client("dynamodb").update_table(TableName=name, BillingMode="PAY_PER_REQUEST")


@aws_translated
def table_delete(*, name: str) -> None:
    """DeleteTable (every item goes with it), waiting until it is gone so a
    provision right after creates it afresh rather than meeting it DELETING."""
    dynamodb = _client("dynamodb")
    dynamodb.delete_table(TableName=name)
    waiter = dynamodb.get_waiter("table_not_exists")
    waiter.wait(TableName=name, WaiterConfig={"Delay": TABLE_WAIT_DELAY, "MaxAttempts": TABLE_WAIT_ATTEMPTS})


# --- reads used by doctor
# Read-only: doctor audits, it never changes anything.


@aws_translated
def group_list(*, pool_id: str) -> list[dict[str, Any]]:
    """Every group of the user pool, with its RoleArn (Token mapping hands those out)."""
    idp = _client("cognito-idp")
    return list(_pages(idp.list_groups, "Groups", UserPoolId=pool_id, Limit=PAGE_SIZE))


@aws_translated
def managed_policy_document(*, policy_arn: str) -> dict[str, Any]:
    """The default version of a managed policy: the one IAM enforces."""
    iam = _client("iam")
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]


@aws_translated
def bucket_policy_get(*, bucket: str) -> str:
    """The bucket policy as JSON text; NotFound when the bucket has none."""
    return _client("s3").get_bucket_policy(Bucket=bucket)["Policy"]


@aws_translated
def user_emails_present(*, pool_id: str, emails: list[str] | tuple[str, ...]) -> list[str]:
    """Which of `emails` belong to a user of the pool (ListUsers filters on
    the attribute, so it finds them whatever their username is)."""
    idp = _client("cognito-idp")
    return [
        email
        for email in emails
        if idp.list_users(UserPoolId=pool_id, Filter=f'email = "{email}"', Limit=1).get("Users")
    ]
