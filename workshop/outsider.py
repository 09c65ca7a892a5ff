"""The attacker's side of a lab: what someone outside the deployment has.

An outsider has HTTP to the app, boto3 with the credentials the app hands out
(to a signed-in user through `POST /api/credentials`, to anyone as a guest),
and the AWS endpoint the app's pages point at; no deployment file, no admin
key. Lab 4 alone creates an identity pool of the attacker's own with the admin
key, standing in for the attacker's AWS account, and says so in a step line.

This module is the attacker's own AWS client, so it is the one place in
`workshop/` that imports boto3: the app's wrappers (`core.aws`, `infra.aws`)
are the defender's, and an attack built on them would borrow their
configuration and their credentials.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from workshop.base import AttackResult, Report

HTTP_TIMEOUT = 20  # seconds per request to the app (it asks Cognito itself, with its own timeouts)
AWS_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class AttackStepFailed(Exception):
    """A step that is not the attack itself failed (the app refused a sign-in,
    the demo users are missing): the lab cannot tell whether it is applied."""


@dataclass
class Outsider:
    app_url: str  # http://127.0.0.1:8000
    endpoint: str | None  # the sandbox (or None: AWS's own endpoints for the region)
    region: str
    report: Report
    # The admin key of "the attacker's own account" (lab 4): the sandbox's
    # admin keys locally; None on AWS, where boto3's usual chain applies.
    own_account_keys: dict[str, str] | None = None
    # Where the attacker's "browser" remembers its signed-in sessions between
    # commands, as a browser keeps its cookies: the app allows five sign-ins
    # per account and address in five minutes, and a workshop attacks often.
    remembered: Path | None = None

    # --- telling -------------------------------------------------------------------------

    def step(self, text: str) -> None:
        self.report(f"-> {text}")

    def got(self, text: str) -> None:
        self.report(f"   obtained: {text}")

    # --- the app, over HTTP ------------------------------------------------------------------

    def app_sign_in(self, email: str, password: str) -> requests.Session:
        """Signed in through the app's own sign-in form, as a browser is."""
        session = requests.Session()
        url = f"{self.app_url}/accounts/sign-in/"
        page = session.get(url, timeout=HTTP_TIMEOUT)
        found = _CSRF_FIELD.search(page.text)
        if page.status_code != 200 or not found:
            raise AttackStepFailed(f"the app's sign-in page answered {page.status_code} without a form at {url}")
        answer = session.post(
            url,
            data={"email": email, "password": password, "csrfmiddlewaretoken": found.group(1)},
            headers={"Referer": url},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        if answer.status_code == 429:
            raise AttackStepFailed(
                f"the app rate-limits sign-ins and refused {email} for now (HTTP 429); "
                f"try again in {answer.headers.get('Retry-After', 'a few')} seconds"
            )
        if answer.status_code != 302 or answer.headers.get("Location", "").startswith("/accounts/"):
            raise AttackStepFailed(
                f"the app did not sign in {email} (HTTP {answer.status_code}); is `manage.py seed_demo_users` done?"
            )
        return session

    def app_credentials(self, session: requests.Session) -> dict[str, Any]:
        """`POST /api/credentials` as credentials.js does: the scoped keys
        (accessKeyId, secretAccessKey, sessionToken, identityId, bucket...)."""
        if "csrftoken" not in session.cookies:
            session.get(f"{self.app_url}/", timeout=HTTP_TIMEOUT)  # any page sets the CSRF cookie
        answer = session.post(
            f"{self.app_url}/api/credentials",
            headers={"X-CSRFToken": session.cookies.get("csrftoken", ""), "Accept": "application/json",
                     "Referer": f"{self.app_url}/"},
            timeout=HTTP_TIMEOUT,
        )
        if answer.status_code != 200:
            raise AttackStepFailed(f"the app gave no credentials (HTTP {answer.status_code}: {answer.text[:200]})")
        return answer.json()

    def user_credentials(self, email: str, password: str) -> dict[str, Any]:
        """The credentials the app hands this user's browser: in the session
        the browser remembers if the app still honours it, else after signing in."""
        cookies = self._remembered().get(email)
        if cookies:
            session = requests.Session()
            session.cookies.update(cookies)
            try:
                return self.app_credentials(session)
            except AttackStepFailed:
                pass  # signed out, expired, or another deployment: sign in again
        session = self.app_sign_in(email, password)
        credentials = self.app_credentials(session)
        self._remember(email, session)
        return credentials

    def guest_credentials(self) -> dict[str, Any]:
        """A guest's keys, as the public gallery's browser gets them: a fresh
        cookie-less visit and `POST /api/credentials` (the app runs the
        unsigned GetId and GetCredentialsForIdentity for its guests)."""
        return self.app_credentials(requests.Session())

    def _remembered(self) -> dict[str, dict[str, str]]:
        if self.remembered is None:
            return {}
        try:
            data = json.loads(self.remembered.read_text())
        except (OSError, ValueError):
            return {}
        return data.get(self.app_url, {}) if isinstance(data, dict) else {}

    def _remember(self, email: str, session: requests.Session) -> None:
        if self.remembered is None:
            return
        try:
            data = json.loads(self.remembered.read_text())
        except (OSError, ValueError):
            data = {}
        data.setdefault(self.app_url, {})[email] = requests.utils.dict_from_cookiejar(session.cookies)
        self.remembered.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.remembered.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # session cookies: the owner's only, even if a leftover .tmp existed
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle)
        os.replace(temporary, self.remembered)

    # --- AWS, as the outsider reaches it -------------------------------------------------------

    def client(self, service: str, creds: dict[str, Any] | None = None) -> Any:
        """A boto3 client at the endpoint, signed with `creds` (the app's JSON
        shape) or, without them, unsigned (the public Cognito calls)."""
        options: dict[str, Any] = {"region_name": self.region, "endpoint_url": self.endpoint}
        if creds is None:
            options["config"] = AWS_CONFIG.merge(Config(signature_version=UNSIGNED))
        else:
            options["config"] = AWS_CONFIG.merge(Config(s3={"addressing_style": "path"}))
            options.update(
                aws_access_key_id=creds["accessKeyId"],
                aws_secret_access_key=creds["secretAccessKey"],
                aws_session_token=creds["sessionToken"],
            )
        return boto3.session.Session().client(service, **options)

    def s3(self, creds: dict[str, Any]) -> Any:
        return self.client("s3", creds)

    def own_account_client(self, service: str) -> Any:
        """The attacker's admin client in an AWS account of their own. The
        sandbox has one account, so this is its admin key there; on AWS,
        boto3's usual chain, i.e. whoever runs the lab."""
        options: dict[str, Any] = {"region_name": self.region, "endpoint_url": self.endpoint, "config": AWS_CONFIG}
        return boto3.session.Session().client(service, **options, **(self.own_account_keys or {}))


def refused(exc: ClientError) -> AttackResult:
    """An attack AWS refused, with AWS's own code and message."""
    error = exc.response.get("Error", {})
    return AttackResult(succeeded=False, error_code=error.get("Code"), error_message=error.get("Message"))


def victim_cleanup(outsider: Outsider, creds: dict[str, Any], key: str) -> None:
    """The victim deletes what a lab's setup stored in her prefix, so no lab
    leaves objects the catalog does not know (which `reconcile` would report)."""
    outsider.step(f"Cleanup, as the victim: she deletes {key}")
    try:
        outsider.s3(creds).delete_object(Bucket=creds["bucket"], Key=key)
    except ClientError as exc:
        outsider.report(f"   (could not delete it: {exc.response.get('Error', {}).get('Code')})")
