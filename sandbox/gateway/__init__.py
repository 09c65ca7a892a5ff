"""The gateway in front of moto, one module per step: `request` (what a
request is), `authentication` (who sent it), `authorization` (may they),
`routing` (the WSGI application: the steps in order, and who answers) and
`outbox` (the sandbox's own route for emailed codes)."""

from sandbox.gateway.routing import Gateway

__all__ = ["Gateway"]
