"""`python -m sandbox` as a developer runs it: it says where it listens, listens
on loopback only (an emulator that trusts the `test` key must not be reachable
from the network), answers with the admin key, and stops cleanly when told."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sandbox.server import accepts, free_port

REPO = Path(__file__).resolve().parents[2]
STARTUP = 30  # seconds to print the endpoint and accept connections
SHUTDOWN = 5  # seconds to exit after a signal
ENDPOINT = re.compile(r"https?://[\w.\-\[\]:]+:\d+")


class Sandbox:
    """A `python -m sandbox` subprocess, with what it has printed so far."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", *args],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        # Drain both pipes, so request logging can never fill one and block the server.
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines.put), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.errors.append), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(pipe: Any, keep: Any) -> None:
        for line in pipe:
            keep(line)

    def _why(self) -> str:
        return f"exit code {self.process.poll()}, stderr: {''.join(self.errors)[-2000:]}"

    def endpoint(self, timeout: float = STARTUP) -> str:
        """The first endpoint printed on stdout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(queue.Empty):
                found = ENDPOINT.search(self.lines.get(timeout=0.2))
                if found:
                    return found.group(0)
        pytest.fail(f"no endpoint printed on stdout within {timeout} s ({self._why()})")

    def wait_ready(self, port: int, timeout: float = STARTUP) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if accepts(port, "127.0.0.1"):
                return
            time.sleep(0.1)
        pytest.fail(f"port {port} not accepting within {timeout} s ({self._why()})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=SHUTDOWN)
        for reader in self._readers:
            reader.join(timeout=SHUTDOWN)
        self.process.stdout.close()
        self.process.stderr.close()


@contextlib.contextmanager
def served(*args: str) -> Iterator[Sandbox]:
    server = Sandbox(*args)
    try:
        yield server
    finally:
        server.stop()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on `port`."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    addresses.add(address)
    return addresses


def _outward_address() -> str | None:
    """This host's address on its default route, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent for UDP connect
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("args", [pytest.param([], id="default-host"), pytest.param(["--host", "127.0.0.1"], id="explicit-host")])
def test_prints_its_endpoint_and_serves_the_admin(args):
    """It prints http://127.0.0.1:<port> and answers GetCallerIdentity for the admin key."""
    port = free_port()
    with served(*args, "--port", str(port)) as server:
        assert server.endpoint() == f"http://127.0.0.1:{port}"
        server.wait_ready(port)
        sts = boto3.client(
            "sts",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
        )
        assert ":123456789012:" in sts.get_caller_identity()["Arn"]


def test_listens_on_loopback_only():
    """By default it is unreachable from the network: bound to 127.0.0.1, not 0.0.0.0 or ::."""
    port = free_port()
    with served("--port", str(port)) as server:
        server.wait_ready(port)
        if os.path.exists("/proc/net/tcp"):
            assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex
        outward = _outward_address()
        if outward is None and not os.path.exists("/proc/net/tcp"):
            pytest.skip("no non-loopback address and no /proc/net/tcp to check the binding")
        if outward is not None:
            assert not accepts(port, outward)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stops_on_signal(signum):
    """SIGTERM (a supervisor) or SIGINT (Ctrl-C) stops it within a few seconds and frees the port."""
    port = free_port()
    with served("--port", str(port)) as server:
        server.wait_ready(port)
        server.process.send_signal(signum)
        try:
            server.process.wait(timeout=SHUTDOWN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {SHUTDOWN} s after {signal.Signals(signum).name}")
        assert not accepts(port, "127.0.0.1")


def test_help_describes_the_options():
    """`--help` exits 0 and documents --host and --port."""
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--help"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=STARTUP,
    )
    assert result.returncode == 0, result.stderr
    assert "--host" in result.stdout and "--port" in result.stdout


# Not loopback, and not this host's, so binding fails right after the warning
# and nothing ever listens beyond loopback during the test.
BEYOND_LOOPBACK = ["192.0.2.1", "2001:db8::1", "sandbox.invalid"]  # TEST-NET-1, IPv6 documentation, RFC 2606


@pytest.mark.parametrize("host", BEYOND_LOOPBACK)
def test_warns_when_told_to_listen_beyond_loopback(host):
    """`--host` other than loopback prints on stderr that the sandbox trusts its network."""
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--host", host, "--port", str(free_port())],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=STARTUP,
    )
    assert result.returncode == 1, result.stderr
    assert "trusts its network" in result.stderr and "loopback only" in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_no_warning_on_loopback(host):
    """On loopback there is nothing to warn about."""
    port = free_port()
    with served("--host", host, "--port", str(port)) as server:
        server.endpoint()
        server.wait_ready(port)
        assert "warning" not in "".join(server.errors)
