"""Who is calling: an API key sent as `Authorization: Bearer <key>` (`budget keys create`).

`AuthMiddleware` checks the key of every request but /health and the docs (unknown paths
too), before the body is read; the routes read the result through the `caller` dependency:

* no key, a malformed header, an unknown or a revoked key → 401 problem details with
  `WWW-Authenticate: Bearer ...` (RFC 6750), before anything is parsed, read or solved;
* a key → its owner: sets and runs they create record that owner, and they see only their own
  (another owner's id is a 404 with the same text as a missing one, never a 403);
* an admin key (`budget keys create OWNER --admin`) sees every owner's data, the sets and runs
  with no owner (stored by the CLI, the flows, benchmarks, or before keys existed), may run
  `GET /algorithms/benchmark` and read `GET /metrics` (`admin_caller`: 403 for other keys, as
  those routes' existence is no secret). Prometheus scrapes with an admin key
  (`authorization: {credentials_file: ...}` in its scrape config).

`API_AUTH=off` (development only: a WARNING at start) makes every caller an anonymous admin:
everything is visible and what is created has no owner.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from db import session_scope
from db.keys import authenticate

log = logging.getLogger("api")

REALM = "budget-allocation"
bearer = HTTPBearer(auto_error=False, scheme_name="ApiKey",
                    description="An API key from `budget keys create OWNER`.")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: the owner what they create records, and whether they are an
    admin (who sees every owner's data)."""

    owner_id: str | None
    admin: bool
    key_id: int | None = None

    @property
    def sees(self) -> str | None:
        """The owner whose data this caller may read; None: every owner's (an admin)."""
        return None if self.admin else self.owner_id


OPEN = Caller(owner_id=None, admin=True)
"""The caller when `API_AUTH=off`: no owner, sees everything."""


PUBLIC_PATHS = frozenset({"/health", "/health/", "/openapi.json", "/docs", "/docs/",
                          "/docs/oauth2-redirect", "/redoc", "/redoc/"})
PUBLIC_PREFIXES = ("/docs-assets/",)
"""What answers without a key: the health check (load balancers) and the API's docs."""
MISSING = ("an API key is required: send `Authorization: Bearer <key>` "
           "(`budget keys create OWNER` makes one)")
INVALID = "invalid or revoked API key"
_SCOPE_KEY = "api.caller"


def challenge(error: str | None = None) -> str:
    """The `WWW-Authenticate` value of a 401 (RFC 6750)."""
    text = f'Bearer realm="{REALM}"'
    return f'{text}, error="{error}"' if error else text


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def bearer_key(headers: Any) -> str | None:
    """The key of an `Authorization: Bearer <key>` header (scheme case-insensitive), or None."""
    value = headers.get("authorization") if headers is not None else None
    if not value:
        return None
    scheme, _, key = value.strip().partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key and " " not in key else None


def lookup(database_url: str, key: str) -> Caller | None:
    """The caller a key stands for (one indexed SELECT by its hash), or None."""
    with session_scope(database_url) as session:
        row = authenticate(session=session, key=key)
        return None if row is None else Caller(row.owner_id, bool(row.admin), row.id)


class AuthMiddleware:
    """Authenticates every request but the public paths before the app sees it (so an
    anonymous body is never parsed): a 401 problem, or the `Caller` in the request's scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        st = request.app.state.api
        if st.settings.api_auth == "off" or is_public(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        key = bearer_key(request.headers)
        if key is None:
            await _send(scope, receive, send, 401, MISSING, challenge())
            return
        try:
            found = await anyio.to_thread.run_sync(lookup, st.database_url, key)
        except Exception as exc:  # database faults: the app's own 503 answers (api.errors)
            from api import errors

            response = await errors.database_fault(request, exc)
            await response(scope, receive, send)
            return
        if found is None:
            await _send(scope, receive, send, 401, INVALID, challenge("invalid_token"))
            return
        scope[_SCOPE_KEY] = found
        await self.app(scope, receive, send)


async def _send(scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                www_authenticate: str) -> None:
    from fastapi.responses import Response

    from api.errors import problem_body
    from api.schemas import PROBLEM_MEDIA_TYPE

    body = json.dumps(problem_body(status, detail, scope.get("path", ""))).encode()
    response = Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers={"WWW-Authenticate": www_authenticate})
    await response(scope, receive, send)


async def caller(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                 ) -> Caller:
    """The caller `AuthMiddleware` found (FastAPI dependency; `credentials` is here for the
    OpenAPI schema's security scheme). With API_AUTH=off: `OPEN`."""
    if request.app.state.api.settings.api_auth == "off":
        return OPEN
    found = request.scope.get(_SCOPE_KEY)
    if not isinstance(found, Caller):  # a route left public by mistake: refuse, never open
        raise HTTPException(401, MISSING, headers={"WWW-Authenticate": challenge()})
    return found


async def admin_caller(who: Annotated[Caller, Depends(caller)]) -> Caller:
    """The caller, if an admin; else 403 (routes whose existence is no secret)."""
    if not who.admin:
        raise HTTPException(403, "this needs an admin API key (`budget keys create OWNER "
                                 "--admin`)")
    return who


CallerDep = Annotated[Caller, Depends(caller)]
AdminDep = Annotated[Caller, Depends(admin_caller)]
