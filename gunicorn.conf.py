"""gunicorn's settings for Photoshare: `gunicorn photoshare.wsgi` reads this
file from the working directory. Every value comes from the environment
(documented in .env.example).

Sizing: each worker is a process with GUNICORN_THREADS threads. The app's
requests mostly wait on Cognito, S3 and the database, so threads (gthread)
serve them well; photo bytes never pass through here (the browser sends them
straight to S3). Each thread holds one database connection for up to
DATABASE_CONN_MAX_AGE seconds: plan PostgreSQL's max_connections for
processes x workers x threads."""

from __future__ import annotations

import os


# Named like core.env's readers (which this file does not import: gunicorn
# reads it before the app is on sys.path), so tests/test_settings.py finds
# every name read here and checks it is in .env.example.
def env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def env_int(name: str, default: int) -> int:
    raw = env_str(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, not {value}.")
    return value


# Loopback by default: a process on a machine of its own behind a proxy, or in
# a container, says 0.0.0.0:<port> explicitly (docker-compose.yml does).
bind = [env_str("GUNICORN_BIND", "127.0.0.1:8000")]
workers = env_int("GUNICORN_WORKERS", 2)
threads = env_int("GUNICORN_THREADS", 4)
worker_class = "gthread"
# Seconds a worker may spend on one request before it is restarted. Above the
# AWS calls' own bounds (connect 5 s + read 10 s, three attempts).
timeout = env_int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 20  # seconds a stopping worker gets to finish its requests
keepalive = 5  # seconds; behind a load balancer keep it above nothing, below the balancer's idle timeout

# Which peers may say a request came over HTTPS (X-Forwarded-Proto): the load
# balancer's addresses or network only. gunicorn ignores the header from any
# other peer, and Django takes the scheme from gunicorn (production settings
# leave SECURE_PROXY_SSL_HEADER unset), so a client reaching the app directly
# cannot claim HTTPS. The default trusts this machine only; "*" only when
# nothing but the balancer can reach the port.
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log on stdout, one line a request, for ops: client (the peer; the
# proxy chain as sent), method, path without the query string (a reset link's
# code or a `next=` never reaches the log), status, bytes, milliseconds, the
# request ID from the balancer (ALB's X-Amzn-Trace-Id) or a proxy's
# X-Request-Id, and the worker's pid. No cookies, no Authorization, no query.
accesslog = "-"
errorlog = "-"
loglevel = env_str("LOG_LEVEL", "info").lower()
access_log_format = (
    '%(h)s xff="%({x-forwarded-for}i)s" "%(m)s %(U)s" %(s)s %(b)s %(M)sms '
    'rid=%({x-request-id}i)s trace=%({x-amzn-trace-id}i)s pid=%(p)s'
)
# Load the app once in the arbiter and fork: workers start fast and share memory.
preload_app = True
# gunicorn 25+ opens a control socket at ~/.gunicorn/gunicorn.ctl. Nothing
# here uses it, several web processes on one machine would fight over the one
# path, and the image's user cannot write its home; signals do the same job.
control_socket_disable = True
