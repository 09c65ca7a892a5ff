"""core.deployment: the IDs file is read once per process and again only when
it changes, the environment wins over it, and a missing value is named.
The reads are counted by wrapping the module's reader (`_read`) with
monkeypatch; the file itself is real, in the test's own directory."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields, replace

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import deployment as module
from core.deployment import Deployment, deployment_get, deployment_save

SAMPLE = Deployment(**{f.name: f"{f.name}-value" for f in fields(Deployment)})


@pytest.fixture
def deployment_file(settings, tmp_path, monkeypatch):
    """A saved deployment of this test's own; every read of it is counted in `reads`."""
    for variable in module.ENVIRONMENT.values():
        monkeypatch.delenv(variable, raising=False)
    settings.PHOTOSHARE_DEPLOYMENT_FILE = tmp_path / "deployment.json"
    path = deployment_save(SAMPLE)
    reads: list[object] = []
    reader = module._read

    def counted(path):
        reads.append(path)
        return reader(path)

    monkeypatch.setattr(module, "_read", counted)
    return path, reads


def test_many_calls_read_the_file_once(deployment_file):
    """Ten deployment_get() calls (more than a sign-in makes) read the file once."""
    _, reads = deployment_file
    assert all(deployment_get() == SAMPLE for _ in range(10))
    assert len(reads) == 1


def test_saving_reads_the_file_exactly_once_more(deployment_file):
    """deployment_save() replaces the file: the next calls see the new IDs after one more read."""
    _, reads = deployment_file
    deployment_get()
    changed = replace(SAMPLE, bucket="another-bucket")
    deployment_save(changed)
    assert [deployment_get() for _ in range(5)] == [changed] * 5
    assert len(reads) == 2


def test_an_edit_in_place_is_seen(deployment_file):
    """Rewriting the same file (same inode, new size and mtime) is read again, once."""
    path, reads = deployment_file
    deployment_get()
    with open(path, "w") as handle:  # in place, as an editor without atomic saves would
        json.dump({**asdict(SAMPLE), "bucket": "edited-by-hand-bucket"}, handle)
    assert deployment_get().bucket == deployment_get().bucket == "edited-by-hand-bucket"
    assert len(reads) == 2


def test_a_touched_file_is_read_again(deployment_file):
    """Only the mtime changes: one more read, same values."""
    path, reads = deployment_file
    deployment_get()
    status = os.stat(path)
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    assert deployment_get() == deployment_get() == SAMPLE
    assert len(reads) == 2


def test_the_environment_wins_over_the_file_without_a_read(deployment_file, monkeypatch):
    """COGNITO_* variables override the file's values, and reading them needs no file read."""
    _, reads = deployment_file
    deployment_get()
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "us-east-1_FromEnv")
    assert deployment_get().user_pool_id == "us-east-1_FromEnv"
    assert len(reads) == 1


def test_a_file_that_appears_is_read(settings, tmp_path, monkeypatch):
    """Before provision there is no file (a missing value is named); once saved, it is used."""
    for variable in module.ENVIRONMENT.values():
        monkeypatch.delenv(variable, raising=False)
    settings.PHOTOSHARE_DEPLOYMENT_FILE = tmp_path / "later.json"
    with pytest.raises(ImproperlyConfigured, match="'user_pool_id' is missing"):
        deployment_get()
    deployment_save(SAMPLE)
    assert deployment_get() == SAMPLE


def test_a_broken_file_says_to_provision(settings, tmp_path):
    """A file that is not JSON stops with a message pointing at `manage.py provision`."""
    settings.PHOTOSHARE_DEPLOYMENT_FILE = tmp_path / "broken.json"
    settings.PHOTOSHARE_DEPLOYMENT_FILE.write_text("{not json")
    with pytest.raises(ImproperlyConfigured, match="manage.py provision"):
        deployment_get()


def test_a_sign_in_and_credentials_read_the_file_at_most_once(shared_site, make_user, sign_in, monkeypatch):
    """A whole sign-in, then two credentials requests, through the test client: one read at most."""
    email = make_user()
    monkeypatch.setattr(module, "_loaded", None)  # as if the process had just started
    reads: list[object] = []
    reader = module._read
    monkeypatch.setattr(module, "_read", lambda path: reads.append(path) or reader(path))
    client = sign_in(email)
    for _ in range(2):
        assert client.post("/api/credentials").status_code == 200
    assert len(reads) == 1


@pytest.mark.parametrize("field_name", ["team_role_arn", "oidc_provider_arn"])
def test_a_file_from_before_issue_16_says_run_provision(deployment_file, field_name):
    """A file written before the team role and the OIDC provider existed is refused, naming the field and the fix."""
    path, _ = deployment_file
    data = json.loads(path.read_text())
    del data[field_name]
    path.write_text(json.dumps(data))
    with pytest.raises(ImproperlyConfigured, match=rf"'{field_name}' is missing .*run `python manage.py provision`"):
        deployment_get()


def test_no_oidc_provider_configured_is_an_empty_value(deployment_file):
    """On AWS without OIDC_ISSUER, provision writes empty team and provider ARNs: present, so accepted."""
    path, _ = deployment_file
    deployment_save(replace(SAMPLE, team_role_arn="", oidc_provider_arn=""))
    got = deployment_get()
    assert (got.team_role_arn, got.oidc_provider_arn) == ("", "")


def test_a_file_from_before_issue_17_says_run_provision(deployment_file):
    """A file written before the albums table existed is refused, naming albums_table and the fix."""
    path, _ = deployment_file
    data = json.loads(path.read_text())
    del data["albums_table"]
    path.write_text(json.dumps(data))
    with pytest.raises(ImproperlyConfigured, match=r"'albums_table' is missing .*run `python manage.py provision`"):
        deployment_get()


def test_an_empty_albums_table_is_not_configured_but_missing(deployment_file):
    """Unlike the OIDC fields, the albums table always exists: an empty name also says run provision."""
    deployment_save(replace(SAMPLE, albums_table=""))
    with pytest.raises(ImproperlyConfigured, match="'albums_table' is missing"):
        deployment_get()
