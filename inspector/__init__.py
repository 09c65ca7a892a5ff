"""The "How it works" inspector: who you are, which role you hold, what it
allows, and why the sandbox allowed or refused each request."""
