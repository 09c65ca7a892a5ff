"""The production stack (scripts/production_stack.py) for the deployment
tests: PostgreSQL, the sandbox and two gunicorn processes, started once for
this directory. Where PostgreSQL is missing the tests fail, telling you to run
`make postgres`, unless this machine cannot install it at all; only then are
they skipped, with the reason."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from scripts.production_stack import ProductionStackUnavailable, Stack, production_stack


def _can_install_postgres() -> bool:
    """What `make postgres` needs: apt-get, and root or sudo."""
    return shutil.which("apt-get") is not None and (os.geteuid() == 0 or shutil.which("sudo") is not None)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Two gunicorn processes with production settings, one worker of two threads each."""
    try:
        with production_stack(web_processes=2, workers=1, threads=2) as started:
            yield started
    except ProductionStackUnavailable as exc:
        if _can_install_postgres():
            pytest.fail(f"{exc}. Run `make postgres` (or `make test`, which does) to install it.")
        pytest.skip(f"{exc}, and this machine cannot install it (no apt-get, or neither root nor sudo).")
