"""HTTPS on 127.0.0.1 in front of the sandbox's plain HTTP, for the AWS CLI.

Why: botocore sends an upload as aws-chunked with a trailing checksum
(`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `x-amz-trailer: x-amz-checksum-crc32`)
only over TLS; over `http://` it puts the checksum in a header and signs the
payload instead (`botocore/httpchecksum.py`, "we'll only use trailers over
TLS"). So the CLI talks to the sandbox the way it talks to AWS only through
HTTPS. This front terminates TLS with a throwaway self-signed certificate
(trusted by the CLI through `AWS_CA_BUNDLE`) and relays the bytes unchanged
to the sandbox, as a load balancer would. It also keeps each request's head
(request line and headers, never the body), so a test can check what the CLI
actually sent, and, when a test asks, flips one byte of the next upload's
payload on its way, as a faulty network would, so a test can show that the
sandbox refuses what the CLI's checksum no longer matches.

Every connection is bounded: an idle timeout on each socket, and a deadline
for the whole exchange."""

from __future__ import annotations

import datetime
import ipaddress
import selectors
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
IDLE = 30  # seconds a connection may send nothing before it is closed
DEADLINE = 300  # seconds one connection may last in all (a 40 MB part needs well under that)
MAX_HEAD = 64 * 1024  # bytes of a request head kept; a longer head is not recorded
CHUNK = 256 * 1024  # bytes relayed per read


@dataclass(frozen=True)
class RequestHead:
    method: str
    target: str  # the path and query as sent
    headers: dict[str, str]  # lower-cased names


def certificate_write(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day:
    (certificate PEM, key PEM). It is its own CA, so it can be the CLI's whole
    CA bundle."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "photoshare test sandbox")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "sandbox-cert.pem", directory / "sandbox-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _head(data: bytes) -> RequestHead | None:
    """The request line and headers at the start of `data`, if complete."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    line, *fields = data[:end].decode("latin-1").split("\r\n")
    method, _, rest = line.partition(" ")
    headers = {}
    for field in fields:
        name, _, value = field.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RequestHead(method, rest.rpartition(" ")[0], headers)


class HttpsFront:
    """`https://127.0.0.1:<port>` relaying to the sandbox at `upstream` (host, port)."""

    def __init__(self, *, upstream: tuple[str, int], directory: Path) -> None:
        self.upstream = upstream
        self.ca_bundle, key_path = certificate_write(directory)
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(self.ca_bundle, key_path)
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.2)  # so the accept loop sees `close()` promptly
        self.port = self._listener.getsockname()[1]
        self.heads: list[RequestHead] = []
        self._alter_next_put = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="https-front", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"https://{HOST}:{self.port}"

    def __enter__(self) -> "HttpsFront":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def requests_since(self, mark: int) -> list[RequestHead]:
        """The heads recorded after `len(front.heads)` was `mark`."""
        with self._lock:
            return list(self.heads[mark:])

    def alter_next_put(self) -> None:
        """Flip one bit of the first payload byte of the next PUT: the byte after the
        aws-chunked body's first chunk-size line (and the HTTP chunk's, when chunked)."""
        with self._lock:
            self._alter_next_put = True

    def _recorded(self, head: RequestHead) -> bool:
        """Keep `head`; whether this request is the one to alter."""
        with self._lock:
            self.heads.append(head)
            if self._alter_next_put and head.method == "PUT":
                self._alter_next_put = False
                return True
            return False

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), name="https-front-conn", daemon=True).start()

    def _relay(self, raw: socket.socket) -> None:
        raw.settimeout(IDLE)
        try:
            client = self._tls.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        try:
            with client, socket.create_connection(self.upstream, timeout=IDLE) as upstream:
                self._pump(client, upstream)
        except OSError:
            pass  # the client or the sandbox went away; nothing to relay any more

    def _pump(self, client: ssl.SSLSocket, upstream: socket.socket) -> None:
        """Relay both ways until the sandbox closes (it closes after every answer)."""
        outbound = _Outbound(self)
        deadline = time.monotonic() + DEADLINE
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                # TLS may hold decrypted bytes the socket no longer signals.
                ready = [client] if client.pending() else [k.fileobj for k, _ in selector.select(timeout=IDLE)]
                if not ready:
                    return
                for source in ready:
                    data = source.recv(CHUNK)
                    if source is upstream:
                        if not data:
                            return
                        client.sendall(data)
                        continue
                    if not data:
                        selector.unregister(client)
                        upstream.shutdown(socket.SHUT_WR)
                        continue
                    upstream.sendall(outbound.feed(data))


class _Outbound:
    """One connection's request bytes on their way to the sandbox: the head is
    recorded once complete, and the one byte to alter, if any, is altered."""

    def __init__(self, front: HttpsFront) -> None:
        self.front = front
        self.start = b""  # the first MAX_HEAD bytes, enough for the head and the first body line
        self.seen = 0  # bytes fed so far
        self.head_end: int | None = None
        self.lines = 1  # lines before the payload's first byte
        self.alter = False
        self.alter_at: int | None = None  # offset of the byte to flip; -1 once flipped

    def feed(self, data: bytes) -> bytes:
        offset, self.seen = self.seen, self.seen + len(data)
        if len(self.start) < MAX_HEAD:
            self.start += data[: MAX_HEAD - len(self.start)]
            if self.head_end is None and (head := _head(self.start)) is not None:
                self.head_end = self.start.find(b"\r\n\r\n") + 4
                self.alter = self.front._recorded(head)
                # botocore streams an aws-chunked body inside HTTP chunked framing: skip
                # that chunk's size line too, so the flip lands in the payload itself.
                self.lines = 2 if "chunked" in head.headers.get("transfer-encoding", "") else 1
            if self.alter and self.alter_at is None and self.head_end is not None:
                line_end = self.head_end - 1
                for _ in range(self.lines):
                    line_end = self.start.find(b"\n", line_end + 1)
                    if line_end < 0:
                        break
                else:
                    self.alter_at = line_end + 1
        if self.alter_at is not None and offset <= self.alter_at < self.seen:
            altered = bytearray(data)
            altered[self.alter_at - offset] ^= 0x01
            self.alter_at = -1
            return bytes(altered)
        return data
