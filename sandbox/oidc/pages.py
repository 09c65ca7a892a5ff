"""The provider's two pages, rendered on the server: the sign-in page and
the error page. Every value is HTML-escaped; no script runs (the CSP forbids
it), and no page may be framed, so nobody can overlay a sign-in button.
Links are relative (`sign-in`, `sign-in.css`, beside `/authorize`), so the
pages work by whichever name the browser reached the sandbox."""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from sandbox.oidc.people import DEMO_PEOPLE
from sandbox.oidc.provider import Pending

STYLESHEET = (Path(__file__).with_name("sign_in.css")).read_bytes()


def security_headers(*, form_target: str | None = None) -> list[tuple[str, str]]:
    """Chromium applies `form-action` to the redirect a form's answer makes,
    so the sign-in page also allows the client's redirect URI's origin."""
    form_action = "'self'" + (f" {_origin(form_target)}" if form_target else "")
    return [
        (
            "Content-Security-Policy",
            f"default-src 'none'; style-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]


def sign_in_page(*, issuer: str, request_id: str, pending: Pending, problem: str | None = None, typed: str = "") -> bytes:
    rid = escape(request_id)
    people = "\n".join(
        f"""      <li><form method="post" action="sign-in">
        <input type="hidden" name="request" value="{rid}">
        <button type="submit" name="email" value="{escape(person.email)}" data-testid="oidc-person">
          <span class="name">{escape(person.name)}</span><span class="email">{escape(person.email)}</span>
        </button>
      </form></li>"""
        for person in DEMO_PEOPLE
    )
    alert = f'<p class="problem" role="alert" data-testid="oidc-problem">{escape(problem)}</p>' if problem else ""
    body = f"""    <h1>Sign in</h1>
    <p class="lead"><strong>{escape(pending.client_id)}</strong> asks who you are.
      You will return to <span class="host">{escape(_origin(pending.redirect_uri))}</span>.</p>
    <h2>Choose a demo person</h2>
    <ul class="people">
{people}
    </ul>
    <h2>Or use any email</h2>
    {alert}
    <form method="post" action="sign-in" class="any">
      <input type="hidden" name="request" value="{rid}">
      <label for="email">Email</label>
      <input id="email" name="email" type="email" required maxlength="254" autocomplete="email" value="{escape(typed)}" data-testid="oidc-email">
      <button type="submit" data-testid="oidc-continue">Continue</button>
    </form>
    <form method="post" action="sign-in" class="cancel">
      <input type="hidden" name="request" value="{rid}">
      <button type="submit" name="cancel" value="1" data-testid="oidc-cancel">Cancel and go back</button>
    </form>"""
    return _document(issuer=issuer, title="Sign in - sandbox OIDC provider", body=body)


def error_page(*, issuer: str, error: str, message: str) -> bytes:
    body = f"""    <h1>Sign-in error</h1>
    <p class="problem" role="alert" data-testid="oidc-error">{escape(message)}</p>
    <p class="code">Error: <code data-testid="oidc-error-code">{escape(error)}</code></p>"""
    return _document(issuer=issuer, title="Sign-in error - sandbox OIDC provider", body=body)


def _document(*, issuer: str, title: str, body: str) -> bytes:
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(title)}</title>
  <link rel="stylesheet" href="sign-in.css">
</head>
<body>
  <main>
    <p class="brand">Sandbox sign-in <span>a local stand-in for Google or your company's SSO; no password</span></p>
{body}
  </main>
</body>
</html>
""".encode()


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"
