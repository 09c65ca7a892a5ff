"""Serving the gateway: in the foreground (`python -m sandbox`) or in a
background thread for tests (`running()`), optionally persisting its state."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from sandbox import moto_seams, oidc
from sandbox.gateway import Gateway
from sandbox.persistence import Persister, Store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
REGION = "us-east-1"
ACCOUNT_ID = moto_seams.ACCOUNT_ID
ONE_HOUR = 3600  # seconds; enhanced-flow credentials always last one hour on AWS


READ_TIMEOUT = 20  # seconds a connection may sit idle, or a body stall, before it is closed


class RequestHandler(moto_seams.core.RequestHandler):
    # HTTP/1.1, as AWS endpoints speak it (chunked answers, Expect: 100-continue).
    # Connections are not kept open between requests, though: werkzeug's
    # server sends "Connection: close" on every answer, so each request is a
    # new TCP connection (cheap on loopback; AWS keeps them alive).
    protocol_version = "HTTP/1.1"
    # A socket timeout on every connection: a client that declares a body and
    # never sends it must not hold a thread forever (a slow-body denial of service).
    timeout = READ_TIMEOUT


def _handler(read_timeout: float) -> type[RequestHandler]:
    return type("TimedRequestHandler", (RequestHandler,), {"timeout": read_timeout})


@dataclass(frozen=True)
class Sandbox:
    host: str
    port: int
    region: str = REGION
    account_id: str = ACCOUNT_ID

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"


class SandboxServer:
    """The HTTP server, the gateway and, with a data directory, its persister.

    Patches moto (`moto_seams.install()`, once per process) before the
    gateway serves anything."""

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        credentials_ttl: int = ONE_HOUR,
        code_ttl: int | None = None,
        data_dir: Path | None = None,
        read_timeout: float = READ_TIMEOUT,
        inspection: bool = True,
        trail_dir: Path | None = None,
        oidc_clients: Iterable[oidc.Client | str] = (),
        oidc_hosted_domains: Iterable[str] = oidc.DEFAULT_HOSTED_DOMAINS,
        oidc_issuer: str | None = None,
    ) -> None:
        """`inspection=False` keeps no decisions and no trail (for the overhead
        benchmark only). The trail is written to `trail_dir`, by default
        `<data_dir>/trail/`; without either it is kept in memory only.

        `oidc_clients` registers the local OIDC provider's clients (`Client`s
        or `CLIENT_ID:SECRET:REDIRECT_URI[,URI...]` specs; BadClient when one
        will not do); its issuer is `<endpoint>/_sandbox/oidc` unless
        `oidc_issuer` says otherwise (a name the browser and the app reach the
        sandbox by, when that is not the address it listens on)."""
        if credentials_ttl < 1:
            raise ValueError("credentials_ttl must be at least one second")
        clients = oidc.clients_index(oidc_clients)  # before anything is opened: a bad spec fails fast
        hosted_domains = tuple(oidc.hosted_domain_parse(d) for d in oidc_hosted_domains)
        if oidc_issuer is not None:
            oidc.issuer_check(oidc_issuer)
        # werkzeug logs every request at INFO; the gateway logs what matters.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        moto_seams.install()
        self.store: Store | None = None
        self.persister: Persister | None = None
        if data_dir is not None:
            self.store = Store(data_dir)
            self.store.open()  # raises DamagedState when in use
            try:
                self.restored = self.store.load()  # raises DamagedState when damaged
                oidc_key = oidc.signing_key_load(data_dir)  # DamagedState too
            except Exception:
                self.store.close()
                raise
        else:
            oidc_key = oidc.signing_key_load(None)
        if trail_dir is None and data_dir is not None:
            trail_dir = Path(data_dir) / "trail"
        self.gateway = Gateway(
            credentials_ttl=credentials_ttl,
            code_ttl=code_ttl,
            default_region=REGION,
            own_hosts=(host,),
            inspection=inspection,
            trail_dir=trail_dir,
        )
        if self.store is not None:
            self.persister = Persister(self.store, self.gateway.lock, self.gateway.change_count)
        try:
            self.httpd: BaseWSGIServer = make_server(
                host, port, self.gateway, threaded=True, request_handler=_handler(read_timeout)
            )
        except Exception:
            self.gateway.close()
            if self.store is not None:
                self.store.close()
            raise
        self.sandbox = Sandbox(host=host, port=self.httpd.server_port)
        # The issuer is the address this server listens on, never a request's Host header.
        self.gateway.oidc = oidc.Provider(
            issuer=oidc_issuer or f"{_endpoint_for_issuer(host, self.httpd.server_port)}{oidc.PREFIX}",
            clients=clients,
            key=oidc_key,
            hosted_domains=hosted_domains,
        )

    def serve_forever(self) -> None:
        if self.persister is not None:
            self.persister.start()
        self.httpd.serve_forever()

    def close(self) -> None:
        """Stop serving (if serving in another thread), save, release the directory."""
        self.httpd.server_close()
        if self.persister is not None:
            self.persister.stop()
        self.gateway.close()
        if self.store is not None:
            self.store.close()


def _endpoint_for_issuer(host: str, port: int) -> str:
    """Where clients reach this server: an unspecified bind address (0.0.0.0,
    ::) is not an address anyone can reach, so it becomes loopback's."""
    if host in ("0.0.0.0", "", "::", "[::]"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def accepts(port: int, host: str = DEFAULT_HOST) -> bool:
    """Whether something listens on host:port (how a starting sandbox is awaited)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    credentials_ttl: int = ONE_HOUR,
    code_ttl: int | None = None,
    data_dir: Path | None = None,
    read_timeout: float = READ_TIMEOUT,
    inspection: bool = True,
    trail_dir: Path | None = None,
    oidc_clients: Iterable[oidc.Client | str] = (),
    oidc_hosted_domains: Iterable[str] = oidc.DEFAULT_HOSTED_DOMAINS,
    oidc_issuer: str | None = None,
) -> Iterator[Sandbox]:
    """Run a sandbox in a background thread for the duration of the block.

    Port 0 picks a free one. moto's backends are process-wide, so every
    sandbox in one process sees the same AWS account."""
    server = SandboxServer(
        host=host,
        port=port,
        credentials_ttl=credentials_ttl,
        code_ttl=code_ttl,
        data_dir=data_dir,
        read_timeout=read_timeout,
        inspection=inspection,
        trail_dir=trail_dir,
        oidc_clients=oidc_clients,
        oidc_hosted_domains=oidc_hosted_domains,
        oidc_issuer=oidc_issuer,
    )
    thread = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
    thread.start()
    try:
        yield server.sandbox
    finally:
        server.httpd.shutdown()
        thread.join(timeout=5)
        server.close()
