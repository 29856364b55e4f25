"""The FastAPI application: `create_app()` wires settings, state, middleware and routers.

    uvicorn --factory api.app:create_app      (or `budget api`)

At start-up (lifespan) the database schema is brought to head if needed, and the champion
selector is loaded (`ml.serving.champion_selector`); without one, `auto` uses the rules.
The runtime model is loaded too (`ml.serving.runtime_model_with_note`): each solve's
response carries its `forecast` (predicted seconds, expected proven within the limit), or
`forecast: null` and a `forecast_note` saying why (no runtime model registered).
Both follow the registry without a restart: when the `champion` alias moves (a promote, a
demote, a rollback), the next solve or /health after at most `CHECK_SECONDS` reloads it
(`api.champion`: one small SELECT at most that often, the load in a worker thread).
When the registry names a champion that cannot be loaded (tampered or missing file, database
error), each `auto` result's `reason` says so and /health reports `"source": "fallback"`.

/docs (Swagger UI) and /redoc load their JavaScript and CSS from this server (/docs-assets,
the files shipped by the `fastapi-offline` package), never from a CDN: they work offline.
Every route answers with and without its trailing slash (`POST /solve` = `POST /solve/`),
never with a redirect; the schema lists the documented form only.

Every route but /health and the docs needs an API key, `Authorization: Bearer <key>` (`api.auth`,
`budget keys create OWNER`): each owner sees only their own sets and runs, an admin key sees
everything and may run benchmarks and read /metrics. `API_AUTH=off` turns keys off for
development only, and the app logs a WARNING at start saying so.

Every error is RFC 9457 problem details (`api.errors`); the schema documents each as
`application/problem+json` (`Problem`), and each operation's id is its function's name
(`solve`, `get_dataset`, `list_results`, ...).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from api import errors
from api.auth import AuthMiddleware
from api.champion import CHECK_SECONDS, ChampionWatch, alias_state, apply_selector
from api.metrics import ApiMetrics
from api.middleware import BodyLimitMiddleware, MetricsMiddleware
from api.routes import benchmark, datasets, ops, results, solve
from api.schemas import MAX_ID, METADATA_COMPONENTS, PROBLEM_MEDIA_TYPE
from api.service import ApiState
from config.settings import Settings, get_settings
from db import ensure_schema, mask_url

log = logging.getLogger("api")

SOLVE_THREADS = 8
"""Solves running at once per process; more wait their turn (they are CPU-bound anyway)."""
OPS_THREADS = 4
"""Threads for health checks, apart from the solves so /health answers under load."""

Selector = Callable[[Mapping[str, float]], str]
_LOAD = object()
_TOGGLED = "api.slash_toggled"
DOCS_ASSETS = "/docs-assets"
"""Where the Swagger UI / ReDoc files are served from (this server, never a CDN)."""
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def docs_assets_dir() -> str:
    """The folder of Swagger UI and ReDoc files shipped by the `fastapi-offline` package."""
    return str(files("fastapi_offline") / "static")


def _install_docs(app: FastAPI) -> None:
    """/docs and /redoc with their assets served locally (FastAPI's self-hosting recipe)."""
    # ReDoc's bundle fetches its sidebar logo from a CDN: serve it pointing at a local image.
    redoc_js = (Path(docs_assets_dir()) / "redoc.standalone.js").read_text(encoding="utf-8")
    redoc_js = redoc_js.replace(REDOC_CDN_LOGO, f"{DOCS_ASSETS}/favicon.png")

    @app.get(f"{DOCS_ASSETS}/redoc.standalone.js", include_in_schema=False)
    async def redoc_bundle() -> Response:
        return Response(redoc_js, media_type="text/javascript; charset=utf-8",
                        headers={"cache-control": "public, max-age=86400"})

    app.mount(DOCS_ASSETS, StaticFiles(directory=docs_assets_dir()), name="docs-assets")
    oauth2_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect}",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # no badge from the online validator (Swagger UI asks it on non-localhost hosts)
            swagger_ui_parameters={"validatorUrl": None})

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png", with_google_fonts=False)


def _server_limits_in_schema(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI schema states this server's own limits: `maxItems` of `projects`
    (API_MAX_PROJECTS) and the largest `time_limit` (API_MAX_TIME_LIMIT); `budget_id`'s
    exact integer bound; and the recursive Metadata components `metadata` refers to."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        _problems_in_schema(schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(METADATA_COMPONENTS)
        for name, model in components.items():
            props = model.get("properties", {})
            if name.startswith(("SolveRequest", "DatasetRequest")) and "projects" in props:
                props["projects"]["maxItems"] = settings.api_projects_cap
            for branch in props.get("budget_id", {}).get("anyOf", []):
                if branch.get("type") == "integer":  # FastAPI's OpenAPI model made it a float
                    branch["maximum"] = MAX_ID
            if name.startswith(("SolveRequest", "DatasetSolveRequest")) and "time_limit" in props:
                for branch in props["time_limit"].get("anyOf", []):
                    if branch.get("type") == "number":
                        branch["maximum"] = settings.api_max_time_limit
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


PROBLEM_REF = "#/components/schemas/Problem"
INTERNAL_ERROR = {"description": "Internal error (a bug; logged by the server, never detailed).",
                  "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}
HEALTH_PATH = "/health"
"""Its 503 is the health report itself (`Health`), what load balancers and operators read."""


def _problems_in_schema(schema: dict[str, Any]) -> None:
    """Every error response documented as `application/problem+json` (a `Problem`), and a 500
    on every operation (what a bug answers); FastAPI's own validation-error models dropped."""
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                if path == HEALTH_PATH and status == "503":
                    continue
                response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
            responses.setdefault("500", INTERNAL_ERROR)
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)


def _operation_id(route: Any) -> str:
    """The operation id: the endpoint's name (`solve`, `get_dataset`, `list_results`)."""
    return str(route.name)


def _accept_both_slash_forms(app: FastAPI) -> None:
    """A path that matches no route but does with the trailing slash added or removed is
    served by that route (`POST /solve` = `POST /solve/`) instead of Starlette's empty 307,
    which many clients do not follow for a POST. Only unmatched paths pay for the check."""
    router = app.router
    not_found = router.default
    router.redirect_slashes = False

    async def other_slash_form(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path not in ("", "/") and not scope.get(_TOGGLED):
            other = dict(scope, path=path[:-1] if path.endswith("/") else f"{path}/")
            if any(route.matches(other)[0] is not Match.NONE for route in router.routes):
                scope["path"] = other["path"]
                scope[_TOGGLED] = True
                await router.app(scope, receive, send)
                return
        await not_found(scope, receive, send)

    router.default = other_slash_form


def load_champion(database_url: str) -> Selector | None:
    """The champion selector from `ml.serving`, or None (then `auto` uses the rules)."""
    return load_champion_with_note(database_url)[0]


def load_champion_with_note(database_url: str) -> tuple[Selector | None, str | None]:
    """(selector, note) from `ml.serving.champion_with_note`; rules (None, None) without ml."""
    try:
        from ml.serving import champion_with_note
    except ImportError as exc:
        log.info("no ml.serving (%s): auto uses the rules", exc)
        return None, None
    return champion_with_note(database_url)


def load_runtime_with_note(database_url: str) -> tuple[Any, str | None]:
    """(runtime model, note) from `ml.serving.runtime_model_with_note`: the registry is asked
    first, so without a runtime model LightGBM is not imported; (None, why) without one."""
    try:
        from ml.serving import runtime_model_with_note
    except ImportError as exc:
        log.info("no ml.serving (%s): no forecasts", exc)
        return None, "no runtime model: the ML package is not installed"
    return runtime_model_with_note(database_url)


def create_app(settings: Settings | None = None, *, database_url: str | None = None,
               selector: Any = _LOAD, migrate: bool = True, runtime: Any = _LOAD,
               champion_check_seconds: float = CHECK_SECONDS) -> FastAPI:
    """A new app. `database_url` overrides the settings'; `selector` skips loading the champion
    (None: the rules); `migrate=False` skips the schema check at start-up; `runtime` skips
    loading the runtime model (None: no forecasts). Models loaded from the registry are
    reloaded when its champion alias moves, checked at most every `champion_check_seconds`;
    given ones (`selector`, `runtime`) stay."""
    settings = settings or get_settings()
    url = database_url or settings.database_url
    metrics = ApiMetrics()
    st = ApiState(settings=settings, database_url=url, metrics=metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        st.solve_limiter = anyio.CapacityLimiter(SOLVE_THREADS)
        st.ops_limiter = anyio.CapacityLimiter(OPS_THREADS)
        if migrate:
            try:
                await anyio.to_thread.run_sync(ensure_schema, url)
            except Exception as exc:  # the API still starts; /health reports the database
                log.error("schema check failed on %s: %s", mask_url(url), type(exc).__name__)
        watch = ChampionWatch(selector=selector is _LOAD, runtime=runtime is _LOAD,
                              every=champion_check_seconds)
        # what the registry names before loading: a promotion meanwhile is seen as a change
        watch.seen = await anyio.to_thread.run_sync(alias_state, url, watch.names) or {}
        chosen, note = (await anyio.to_thread.run_sync(load_champion_with_note, url)
                        if selector is _LOAD else (selector, None))
        apply_selector(st, chosen, note)
        if runtime is _LOAD:
            model, runtime_note = await anyio.to_thread.run_sync(load_runtime_with_note, url)
        else:  # given by the caller (tests); None: forecasts off
            model, runtime_note = runtime, (None if runtime else "forecasts are off here")
        st.runtime_model, st.runtime_note = model, runtime_note
        watch.checked_at = time.monotonic()
        st.champion_watch = watch
        if settings.api_auth == "off":
            log.warning("API_AUTH=off: no API keys are checked and every caller sees every "
                        "owner's data; for development only")
        log.info("API on %s, selector %s, forecasts %s", mask_url(url), st.selector_name,
                 getattr(model, "name", None) or f"off ({st.runtime_note})")
        yield

    app = FastAPI(
        title="Budget allocation by subset sum",
        version="0.1.0",
        description="Choose the projects whose total cost comes closest to a budget without "
                    "going over, and prove when the choice is optimal.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = st
    errors.install(app)
    for module in (solve, datasets, results, benchmark, ops):
        app.include_router(module.router)
    _accept_both_slash_forms(app)
    _server_limits_in_schema(app, settings)
    _install_docs(app)
    app.add_middleware(AuthMiddleware)  # innermost: after CORS preflights and the body limit
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.api_max_body_bytes)
    if settings.api_cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api_cors_origins,
                           allow_methods=["GET", "POST"],
                           allow_headers=["content-type", "authorization"])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
