"""HTTP plumbing the API shares: the body limit, the key gate in front of the MCP endpoint, the
JSON error shape, the access settings check."""

import hmac

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.datastructures import Headers

from askbrief.errors import BadSetting

MAX_BODY = 10 * 1024 * 1024  # bytes in one request: a large batch of articles, never a data dump
MAX_FORM_FIELDS = 10  # an upload has one file; a form of thousands of fields is an attack


class KeyGate:
    """An ASGI app in front of another that answers 401 (the API's JSON error) unless the
    request carries `key` as its Authorization header; `key` None lets everything through."""

    def __init__(self, app, key: bytes | None):
        self.app, self.key = app, key

    async def __call__(self, scope, receive, send):
        if self.key is not None and not hmac.compare_digest(Headers(scope=scope).get("authorization", "").encode(), self.key):
            await unauthorised_response()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def mcp_security(settings):
    """MCP's DNS-rebinding guard: loopback names and ASKBRIEF_MCP_ALLOWED_HOSTS as Host, loopback
    pages and ASKBRIEF_CORS_ORIGINS as Origin (a request without an Origin is no browser's)."""
    from mcp.server.transport_security import TransportSecuritySettings

    loopback = ["127.0.0.1", "localhost", "[::1]"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[h for name in loopback for h in (name, f"{name}:*")] + list(settings.mcp_allowed_hosts),
        allowed_origins=[f"http://{name}:*" for name in loopback] + [f"http://{name}" for name in loopback]
        + list(settings.cors_origins))


def _too_large(size: int | None = None) -> str:
    said = f"is {size} bytes" if size is not None else "is over the limit"
    return f"request body {said}; the limit is {MAX_BODY} bytes: send fewer documents at once"


class BodyLimit:
    """ASGI middleware that reads the whole body before the app sees it, and answers 413 the
    moment it passes `limit` bytes, however it arrives: a declared Content-Length is refused
    before reading; a chunked or multipart body is counted as it streams (Starlette's
    max_part_size does not cap file parts). At most `limit` bytes are ever held."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await error(413, "body", _too_large(int(length)))(scope, receive, send)
        messages, received = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.limit:
                return await error(413, "body", _too_large())(scope, receive, send)
            if not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def record(record: BaseModel) -> Response:
    return Response(record.model_dump_json(), media_type="application/json")


def check_access_settings(settings) -> None:
    """Settings that would silently leave the service open are refused, with what to set instead."""
    if settings.api_key is not None and not settings.api_key.strip():
        raise BadSetting("api_key", "ASKBRIEF_API_KEY is set but empty, which would leave writes open;"
                         " give it a secret value, or unset it to run without a key on a trusted machine")
    if settings.protect_reads and not settings.api_key:
        raise BadSetting("protect_reads", "ASKBRIEF_PROTECT_READS=true needs ASKBRIEF_API_KEY: without a key"
                         " nothing can be protected; set the key, or unset ASKBRIEF_PROTECT_READS")


class Unauthorised(Exception):
    """A protected endpoint was called without the right API key."""


class Access:
    """The key rules: writes need ASKBRIEF_API_KEY when one is set, reads too with
    ASKBRIEF_PROTECT_READS; the key is compared in constant time. `read` and `write` are the
    dependencies a route lists."""

    def __init__(self, settings):
        self.settings = settings
        self.write = [Depends(self.require_key)]
        self.read = [Depends(self.require_key_for_reads)]

    def has_key(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return not self.settings.api_key or hmac.compare_digest(given.encode(), f"Bearer {self.settings.api_key}".encode())

    def require_key(self, request: Request) -> None:
        if not self.has_key(request):
            raise Unauthorised()

    def require_key_for_reads(self, request: Request) -> None:
        if self.settings.protect_reads:
            self.require_key(request)


def unauthorised_response() -> JSONResponse:
    response = error(401, "authorization", "a valid `Authorization: Bearer <ASKBRIEF_API_KEY>` header is required")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def error(status: int, field: str, message: str, kind: str = "invalid") -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": [{"loc": ["body", field], "msg": message, "type": kind}]})
