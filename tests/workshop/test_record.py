"""The applied-lab record behind the banner: read cheaply, never trusted when
it is for another deployment or unreadable, and never a reason for a page to fail."""

from __future__ import annotations

import json
import os

import pytest
from django.test import Client

from workshop.record import applied_lab_number, applied_lab_record

POOL = "us-east-1:11111111-2222-4333-8444-555555555555"


@pytest.fixture
def files(settings, tmp_path):
    """A deployment file naming POOL (no AWS behind it: the banner makes no AWS call) and a labs file."""
    deployment = {
        "user_pool_id": "us-east-1_abc", "app_client_id": "c", "app_client_secret": "s", "identity_pool_id": POOL,
        "bucket": "b", "authenticated_role_arn": "arn:aws:iam::1:role/a", "unauthenticated_role_arn": "arn:aws:iam::1:role/u",
        "moderator_role_arn": "arn:aws:iam::1:role/m", "team_role_arn": "", "oidc_provider_arn": "",
        "albums_table": "t-albums",
    }
    settings.PHOTOSHARE_DEPLOYMENT_FILE = tmp_path / "deployment.json"
    settings.PHOTOSHARE_DEPLOYMENT_FILE.write_text(json.dumps(deployment))
    settings.PHOTOSHARE_LABS_FILE = tmp_path / "labs.json"
    return settings


def test_record_is_read_for_its_own_deployment_only(files):
    """A record made for another identity pool (a reset, a new provision) names no lab."""
    applied_lab_record(3, identity_pool_id=POOL)
    assert applied_lab_number(identity_pool_id=POOL) == 3
    assert applied_lab_number(identity_pool_id="us-east-1:other") is None
    applied_lab_record(None)
    assert applied_lab_number(identity_pool_id=POOL) is None


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"applied": "2", "identity_pool_id": "x"}', '{"applied": true}', '{"applied": 2}']
)
def test_unreadable_record_names_no_lab(files, text):
    """Garbage in the labs file is ignored (and logged), not an error."""
    files.PHOTOSHARE_LABS_FILE.write_text(text.replace('"x"', json.dumps(POOL)))
    assert applied_lab_number(identity_pool_id=POOL) is None


def test_a_rewritten_record_is_read_again(files):
    """The record is cached by inode, size and mtime, so an edit is seen on the next page."""
    applied_lab_record(1, identity_pool_id=POOL)
    assert applied_lab_number(identity_pool_id=POOL) == 1
    path = files.PHOTOSHARE_LABS_FILE
    path.write_text(json.dumps({"applied": 4, "identity_pool_id": POOL}))
    os.utime(path, ns=(1, 1))  # even with an old mtime: the size or the inode changed
    assert applied_lab_number(identity_pool_id=POOL) == 4


@pytest.mark.django_db
def test_sign_in_page_shows_the_banner_only_while_recorded(files):
    """The banner is on a page exactly while the record names a lab of this deployment."""
    client = Client()
    assert b'data-testid="lab-banner"' not in client.get("/accounts/sign-in/").content
    applied_lab_record(2, identity_pool_id=POOL)
    page = client.get("/accounts/sign-in/").content.decode()
    assert 'data-testid="lab-banner"' in page and "python manage.py lab revert 2" in page


@pytest.mark.django_db
def test_no_deployment_no_banner_and_no_error(files):
    """Before anything is provisioned, pages render without a banner."""
    files.PHOTOSHARE_DEPLOYMENT_FILE.unlink()
    files.PHOTOSHARE_LABS_FILE.write_text(json.dumps({"applied": 1, "identity_pool_id": POOL}))
    response = Client().get("/accounts/sign-in/")
    assert response.status_code == 200
    assert b'data-testid="lab-banner"' not in response.content
