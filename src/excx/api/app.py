"""The service: ``create_app(settings)`` wires routes, middleware and the store pool.

Nothing connects at import time: the pool opens in the app's lifespan.

>>> from excx.api.settings import Settings, load_settings
>>> app = create_app(Settings(store="duckdb://:memory:", secret_key="k" * 32))
>>> "/api/v1/metrics/{kpi}" in app.openapi()["paths"]
True
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from excx.api.db import StorePool, run
from excx.api.deps import StoreDep
from excx.api.settings import Settings, load_settings
from excx.errors import (
    ExcxError,
    ImportValidationError,
    InputError,
    PrivacyError,
    StoreError,
)

__all__ = ["create_app", "create_app_from_env", "log_to_stderr"]

log = logging.getLogger("excx")
# Paths whose last segment is a credential: never written to the log.
_SECRET_PATHS = ("/s/pulse/", "/s/cx/")


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI application of ``excx serve``.

    Parameters
    ----------
    settings
        See :class:`excx.api.settings.Settings`; checked here (a default secret
        is refused unless ``settings.dev``).

    Returns
    -------
    fastapi.FastAPI
        Routes under ``/api/v1/``, survey pages under ``/s/``, ``/healthz``,
        ``/openapi.json`` and an offline ``/docs``.
    """
    from excx.api.routes import (
        auth,
        collect,
        docs,
        imports,
        linkage,
        metrics,
        surveys,
        units,
    )

    settings.check()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = StorePool(settings.store, size=settings.pool_size)
        pool.open()
        app.state.pool = pool
        app.state.store_slots = asyncio.Semaphore(pool.size)
        # Threads for blocking store work of the survey pages: one per connection.
        app.state.store_threads = ThreadPoolExecutor(pool.size, "excx-store")
        log.info("excx serve: store %s, %d connection(s)", settings.store, pool.size)
        try:
            yield
        finally:
            app.state.store_threads.shutdown()
            pool.close()

    app = FastAPI(
        title="excx",
        summary="Employee experience → customer experience: metrics, surveys, API.",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # Survey pages first: the busiest paths are matched against fewest routes.
    app.include_router(collect.router)
    for module in (auth, metrics, units, surveys, imports, linkage):
        app.include_router(module.router, prefix="/api/v1")
    from excx.api.routes import channels, journey

    for module in (journey, channels):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(docs.router)
    from fastapi.staticfiles import StaticFiles

    from excx.web import STATIC_DIR
    from excx.web import router as dashboard

    app.include_router(dashboard)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(AccessLog)

    @app.get("/healthz", tags=["service"], summary="Is the store reachable?")
    def healthz(store: StoreDep) -> dict:
        """200 when the store answers a query, 503 otherwise (the connection is
        then replaced for the next request)."""
        try:
            run(store, "SELECT 1")
        except Exception as exc:
            raise StoreError(f"the store does not answer: {exc}") from exc
        return {"status": "ok", "backend": store.backend}

    return app


def create_app_from_env() -> FastAPI:
    """The app of one ``excx serve --workers N`` worker process.

    uvicorn starts each worker from the import string
    ``excx.api.app:create_app_from_env``; the settings come from the
    environment (and ``.env``) that ``excx serve`` set for them, so every worker
    shares the store and the secret.
    """
    log_to_stderr()
    return create_app(load_settings())


def log_to_stderr() -> None:
    """excx's log lines (one per request, INFO) on stderr, with their time."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


def _add_error_handlers(app: FastAPI) -> None:
    """excx's own errors as JSON with a status that says whose fault it is."""

    @app.exception_handler(ImportValidationError)
    async def invalid_file(request: Request, exc: ImportValidationError):
        name = getattr(exc, "public_name", None) or str(exc.path)
        return JSONResponse(
            {
                "detail": str(exc).replace(str(exc.path), name),
                "file": name,
                "problems": exc.problems,
                "counts": exc.counts,
            },
            status_code=422,
        )

    @app.exception_handler(ExcxError)
    async def known_error(request: Request, exc: ExcxError):
        code = 400
        if isinstance(exc, PrivacyError):
            code = 403
        elif isinstance(exc, InputError):
            code = 422
        elif isinstance(exc, StoreError):
            code = 503
            log.error("store error on %s: %s", request.url.path, exc)
        return JSONResponse({"detail": f"{type(exc).__name__}: {exc}"}, code)


class AccessLog:
    """One ``key=value`` line per request on the ``excx`` logger.

    Survey paths are logged without their token and without the client address,
    so that the log cannot tie an answer to a person.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_status(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = scope["path"]
            client = (scope.get("client") or ("-",))[0]
            for prefix in _SECRET_PATHS:
                if path.startswith(prefix):
                    path, client = prefix + "***", "-"
            user = (scope.get("state") or {}).get("username", "-")
            log.info(
                "access method=%s path=%s status=%d ms=%.1f client=%s user=%s",
                scope["method"],
                path,
                status["code"],
                (time.perf_counter() - started) * 1000,
                client,
                user,
            )


class BodyLimit:
    """Refuse request bodies over the limit with 413, before any handler runs."""

    def __init__(self, app, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.settings.max_body_bytes
        if scope["path"].startswith("/api/v1/imports"):
            limit = self.settings.max_import_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(limit)(scope, receive, send)

        if declared is not None or scope["method"] in ("GET", "HEAD"):
            return await self.app(scope, receive, send)

        # No declared length (chunked): read up to the limit before the app runs.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > limit:
                return await _too_large(limit)(scope, receive, send)
        replayed = iter([{"type": "http.request", "body": b"".join(chunks)}])

        async def replay():
            return next(replayed, None) or await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int):
    text = f"request body over {limit} bytes; accepted: at most {limit} bytes"
    if limit >= 1024:
        text = f"request body over {limit // 1024} KiB; accepted: at most that"
    return JSONResponse({"detail": text}, status_code=413)
