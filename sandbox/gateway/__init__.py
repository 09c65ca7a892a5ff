"""The gateway in front of moto, one module per step: `request` (what a
request is), `authentication` (who sent it), `authorization` (may they),
`routing` (the WSGI application: the steps in order, and who answers),
`outbox` and `faults` (the sandbox's own routes for emailed codes and test
faults), `decisions` and `inspection` (each request's decision and trail
record, and the routes that hand them out)."""

from sandbox.gateway.routing import Gateway

__all__ = ["Gateway"]
