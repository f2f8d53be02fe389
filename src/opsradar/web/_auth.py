"""Access control: tokens for writes, admin requests and (optionally) reads.

A request needs a role, decided by its method alone, so a route added later is covered too:

    GET, HEAD, OPTIONS   read    open unless ``read_token`` is set
    POST, PUT, PATCH     write   ingest over HTTP, events, feedback
    DELETE               admin   deletion (and anything under ``/api/v1/admin/``)

A stronger token also grants the weaker roles (admin ⊇ write ⊇ read). A role with no token
configured is open; the wiring refuses to start on a non-loopback address unless the write
and admin tokens are set (or ``--insecure`` is given). Tokens travel as
``Authorization: Bearer <token>`` or, so that a browser can prompt for it, as the password of
HTTP Basic auth. Comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

READ, WRITE, ADMIN = "read", "write", "admin"
_ROLE_BY_METHOD = {"GET": READ, "HEAD": READ, "OPTIONS": READ, "DELETE": ADMIN}
ADMIN_PREFIX = "/api/v1/admin/"


@dataclass(frozen=True)
class Access:
    """The configured tokens; an empty string means "not set"."""

    write_token: str = field(default="", repr=False)
    admin_token: str = field(default="", repr=False)
    read_token: str = field(default="", repr=False)

    def accepted(self, role: str) -> list[str]:
        """Tokens that grant ``role``; an empty list means the role is open to anyone.

        >>> Access(write_token="w" * 16).accepted("read")
        []
        >>> len(Access(write_token="w" * 16, admin_token="a" * 16).accepted("write"))
        2
        """
        admin = [t for t in (self.admin_token or self.write_token,) if t]
        write = [t for t in (self.write_token, self.admin_token) if t]
        if role == ADMIN:
            return admin
        if role == WRITE:
            return write
        return [self.read_token, *write] if self.read_token else []

    @property
    def open(self) -> bool:
        return not (self.write_token or self.admin_token or self.read_token)


def role_of(method: str, path: str) -> str:
    """The role a request needs.

    >>> role_of("GET", "/"), role_of("POST", "/api/v1/points"), role_of("DELETE", "/x")
    ('read', 'write', 'admin')
    """
    if path.startswith(ADMIN_PREFIX):
        return ADMIN
    return _ROLE_BY_METHOD.get(method.upper(), WRITE)


def presented_token(authorization: str) -> str | None:
    """The token in an ``Authorization`` header (Bearer, or the password of Basic)."""
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def token_matches(token: str, accepted: list[str]) -> bool:
    """Constant-time comparison against every accepted token (no early exit)."""
    given = token.encode("utf-8", "surrogateescape")
    found = False
    for candidate in accepted:
        found |= hmac.compare_digest(given, candidate.encode("utf-8"))
    return found


class TokenAuth:
    """ASGI middleware enforcing ``Access`` on every HTTP request before any route runs."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.access.open:
            await self.app(scope, receive, send)
            return
        role = role_of(scope["method"], scope["path"])
        accepted = self.access.accepted(role)
        if not accepted:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        token = presented_token(headers.get("authorization", ""))
        if token is not None and token_matches(token, accepted):
            await self.app(scope, receive, send)
            return
        if token is None:
            message = f"this {role} request needs a token: Authorization: Bearer <token>"
            await _deny(send, 401, message, "text/html" in headers.get("accept", ""))
        else:
            await _deny(send, 403, f"the token given does not allow {role} requests", False)


async def _deny(send: Send, status: int, message: str, browser: bool) -> None:
    body = json.dumps({"error": {"status": status, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 401:  # a browser prompts for Basic credentials; the token is the password
        challenge = b'Basic realm="opsradar"' if browser else b'Bearer realm="opsradar"'
        headers.append((b"www-authenticate", challenge))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
