"""`python -m sandbox`: serve the sandbox in the foreground until Ctrl-C or SIGTERM.

`python -m sandbox export DIR FILE` and `python -m sandbox import FILE DIR`
move a data directory's state through the versioned JSON document of
`sandbox/state_export.py` (exit 0 with one line of figures; 2 with a message
when the input will not do; 1 when the disk fails)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import sys
from pathlib import Path

from sandbox import oidc, server, state_commands
from sandbox.persistence import DamagedState

COMMANDS = ("export", "import")


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local AWS (cognito-idp, cognito-identity, sts, iam, s3) on one endpoint, and a local OIDC "
        "provider under /_sandbox/oidc (the stand-in for Google or a company's SSO).",
        epilog="Also: `python -m sandbox export DIR FILE` and `python -m sandbox import FILE DIR` "
        "move a data directory's state through a versioned JSON document (see --help of each).",
    )
    parser.add_argument("--host", default=server.DEFAULT_HOST, help="address to bind (default: %(default)s, loopback only)")
    parser.add_argument("--port", type=int, default=server.DEFAULT_PORT, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--credentials-ttl",
        type=int,
        default=server.ONE_HOUR,
        metavar="SECONDS",
        help="lifetime of identity-pool credentials; sandbox-only, for expiry tests (default: %(default)s, as on AWS)",
    )
    parser.add_argument(
        "--code-ttl",
        type=int,
        metavar="SECONDS",
        help="lifetime of emailed sign-up and password-reset codes; sandbox-only, for expiry tests "
        "(default: AWS's, 24 h and 1 h)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep users, identities, roles, buckets and objects in DIR across restarts (default: memory only)",
    )
    parser.add_argument(
        "--no-inspection",
        action="store_true",
        help="keep no decisions and no trail (/_sandbox/decisions, /_sandbox/trail); for measuring their cost only",
    )
    parser.add_argument(
        "--oidc-client",
        action="append",
        type=_oidc_client,
        default=[],
        metavar="CLIENT_ID:SECRET:REDIRECT_URI[,URI...]",
        help="register a client of the local OIDC provider at <endpoint>/_sandbox/oidc (repeatable); "
        "redirect URIs must then match exactly. The ID and secret may not contain ':'",
    )
    parser.add_argument(
        "--oidc-hosted-domain",
        action="append",
        type=_hosted_domain,
        metavar="DOMAIN",
        help="an email domain whose people get the claim hd=DOMAIN, as Google Workspace accounts do "
        "(repeatable; default: wintercorp.com)",
    )
    parser.add_argument(
        "--oidc-issuer",
        metavar="URL",
        help="the OIDC provider's issuer, http(s)://NAME[:PORT]/_sandbox/oidc, when clients reach the sandbox by "
        "another name than the address it listens on (default: http://<host>:<port>/_sandbox/oidc)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every refusal with its reason")
    return parser.parse_args(argv)


def _oidc_client(spec: str) -> oidc.Client:
    try:
        return oidc.client_parse(spec)
    except oidc.BadClient as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _hosted_domain(value: str) -> str:
    try:
        return oidc.hosted_domain_parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _command_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Move a data directory's state through JSON.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write DIR's state to FILE and its bodies to FILE.bodies/")
    export.add_argument("data_dir", type=Path, metavar="DIR", help="a data directory no sandbox is using")
    export.add_argument("file", type=Path, metavar="FILE", help="the JSON document to write (must not exist)")
    imported = commands.add_parser("import", help="write a fresh data directory DIR from FILE and FILE.bodies/")
    imported.add_argument("file", type=Path, metavar="FILE", help="a document written by export")
    imported.add_argument("data_dir", type=Path, metavar="DIR", help="a new or empty directory")
    return parser.parse_args(argv)


def _command(argv: list[str]) -> int:
    args = _command_args(argv)  # argparse itself exits 2 on a usage error
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        if args.command == "export":
            line = state_commands.export_state(args.data_dir, args.file)
        else:
            line = state_commands.import_state(args.file, args.data_dir)
    except state_commands.BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {args.command} failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a state this sandbox cannot express (a bug, not bad input): a message, not a traceback
        logging.getLogger("sandbox").debug("%s failed", args.command, exc_info=True)
        print(f"error: {args.command} failed ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    print(line, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return _command(argv)
    args = _args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if not _loopback(args.host):
        print(
            f"warning: {args.host} is not a loopback address. The sandbox trusts its network: anyone who can "
            "reach it can use the admin key test/test, read the outbox and every stored secret. "
            "Listen on loopback only (the default, 127.0.0.1) unless this network is yours alone.",
            file=sys.stderr,
            flush=True,
        )
    try:
        sandbox = server.SandboxServer(
            host=args.host,
            port=args.port,
            credentials_ttl=args.credentials_ttl,
            code_ttl=args.code_ttl,
            data_dir=args.data_dir,
            inspection=not args.no_inspection,
            oidc_clients=args.oidc_client,
            oidc_hosted_domains=args.oidc_hosted_domain or oidc.DEFAULT_HOSTED_DOMAINS,
            oidc_issuer=args.oidc_issuer,
        )
    except (oidc.BadClient, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DamagedState as exc:
        print(f"error: {exc}. The sandbox will not start on it: move the directory away to keep it, "
              "or run `make reset` to start empty.", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    # SIGTERM stops as cleanly as Ctrl-C does: serve_forever returns, then we save.
    # SIGINT is set explicitly too: a shell may start us with it ignored.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    where = f"state in {args.data_dir}" if args.data_dir else "state in memory only"
    print(
        f"Sandbox listening on {sandbox.sandbox.endpoint} (region {server.REGION}, account {server.ACCOUNT_ID}, "
        f"admin key test/test, {where})",
        flush=True,
    )
    if args.oidc_client:
        print(f"OIDC provider {sandbox.gateway.oidc.issuer} for clients {', '.join(c.client_id for c in args.oidc_client)}", flush=True)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.close()
    print("Sandbox stopped." + (" State saved." if args.data_dir else ""), flush=True)
    return 0


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
