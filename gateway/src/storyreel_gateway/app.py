"""The FastAPI application: lifespan-owned clients, routers under /api/v1, one error envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.logging import get_logger
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.settings import Settings
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.factory import open_document_store, open_object_store
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.telemetry.asgi import RequestMetricsMiddleware
from storyreel_core.telemetry.metrics import metrics_payload
from storyreel_core.telemetry.tracing import configure_tracing
from storyreel_gateway.auth.admin_seed import ensure_admin
from storyreel_gateway.auth.api_keys import KeyHasher, api_key_secret
from storyreel_gateway.auth.api_quota import ApiQuota
from storyreel_gateway.auth.api_usage import ApiUsageMiddleware
from storyreel_gateway.auth.api_user_store import ApiUserStore
from storyreel_gateway.auth.login_throttle import LoginThrottle
from storyreel_gateway.auth.secrets_file import signing_secret
from storyreel_gateway.auth.tokens import TokenService
from storyreel_gateway.auth.user_store import UserStore
from storyreel_gateway.conversations.recorder import ConversationRecorder
from storyreel_gateway.conversations.store import ConversationStore
from storyreel_gateway.drafts.documents import DraftDocuments
from storyreel_gateway.drafts.screenplays import Screenplays
from storyreel_gateway.error_handlers import install_error_handlers
from storyreel_gateway.media_signer import MediaSigner
from storyreel_gateway.monitoring.alerts import AlertBook
from storyreel_gateway.realtime.task_feed import TaskFeed, open_task_feed
from storyreel_gateway.routers import (
    api_users,
    assets,
    auth,
    budget,
    characters,
    conversations,
    dramas,
    dynamic_subtitles,
    media,
    media_generation,
    monitoring,
    personas,
    pipeline,
    pipeline_stages,
    providers,
    realtime,
    screenplays,
    scripts,
    storyboards,
    system,
    tasks,
    video_tasks,
    videos,
    workflow,
    workflow_stages,
)
from storyreel_gateway.state import GatewayState, Stubs

API_PREFIX = "/api/v1"
log = get_logger("storyreel.gateway")


async def build_state(
    settings: Settings,
    docs: DocumentStore | None = None,
    objects: ObjectStore | None = None,
    bus: JetStreamBus | None = None,
) -> GatewayState:
    """Open what the gateway needs; the embedded launcher passes its shared stores and bus in.

    The standalone gateway connects to `STORYREEL_NATS_URL` for realtime task events; without
    it the REST API works and the WebSocket/SSE routes answer 503."""
    docs = docs or await open_document_store(settings)
    objects = objects or await open_object_store(settings)
    feed: TaskFeed | None = None
    if bus is not None:
        feed = await TaskFeed(bus).start()
    elif settings.nats_url:
        feed = await open_task_feed(settings.nats_url)
    else:
        log.warning("gateway.realtime_off", reason="STORYREEL_NATS_URL is not set")
    secret = signing_secret(settings)
    users = UserStore(docs)
    tokens = TokenService(docs, secret, settings.access_token_ttl_s, settings.refresh_token_ttl_s)
    await users.ensure_indexes()
    await tokens.ensure_indexes()
    await ensure_admin(users, settings)
    api_user_store = ApiUserStore(docs, KeyHasher(api_key_secret(settings, secret)))
    await api_user_store.ensure_indexes()
    await AlertBook(docs).ensure_indexes()
    conversation_store = ConversationStore(docs)
    await conversation_store.ensure_indexes()
    recorder = await ConversationRecorder(conversation_store, feed.bus if feed else None).start()
    draft_documents = DraftDocuments(docs)
    await draft_documents.ensure_indexes()
    gateway = GatewayState(
        settings=settings,
        docs=docs,
        objects=objects,
        users=users,
        tokens=tokens,
        throttle=LoginThrottle(docs, settings.login_limit_account, settings.login_limit_address),
        signer=MediaSigner(secret, settings.media_url_ttl_s),
        stubs=Stubs.connect(settings),
        api_users=api_user_store,
        api_quota=ApiQuota(docs),
        feed=feed,
        providers=ProviderRegistry.from_settings(settings),
        conversations=conversation_store,
        recorder=recorder,
    )
    # Screenplay drafts move on when their stage tasks finish (seed 004).
    recorder.on_finished.append(Screenplays(gateway, draft_documents).on_task_event)
    return gateway


async def metrics(_request: Request) -> Response:
    """Prometheus text for the whole process: in embedded mode every service's metrics too."""
    body, content_type = metrics_payload()
    return Response(body, media_type=content_type)


def create_app(settings: Settings, state: GatewayState | None = None) -> FastAPI:
    owns_state = state is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = state or await build_state(settings)
        app.state.gateway = gateway
        yield
        if gateway.recorder is not None:
            await gateway.recorder.stop()
        if gateway.feed is not None:
            await gateway.feed.close()
        await gateway.stubs.close()
        if owns_state:
            await gateway.objects.close()
            await gateway.docs.close()

    # /docs (Swagger UI) and /redoc load their scripts and styles from the gateway itself
    # (fastapi-offline ships them), not from a CDN, so the docs work offline.
    app = FastAPIOffline(
        title="StoryReel API",
        version="0.1.0",
        description="Story in, vertical short drama out. Every response uses one envelope.",
        # No badge from the online validator: it would send the document to another host.
        swagger_ui_parameters={"validatorUrl": None},
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # The first configuration in a process wins: the embedded launcher's comes before this.
    configure_tracing(settings, "storyreel-gateway")
    # WebSockets (`/ws`, `/workflow/{id}/ws`) are not traced: a span that lasts as long as the
    # connection (up to an hour) tells nothing, and the middleware would still run on every
    # frame sent, 200 times per progress record with 200 clients watching.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="/metrics$,/health$,/ws$", exclude_spans=["receive", "send"]
    )
    app.add_middleware(ApiUsageMiddleware)
    app.add_middleware(RequestMetricsMiddleware)
    app.add_route("/metrics", metrics, include_in_schema=False)
    api = APIRouter(prefix=API_PREFIX)
    for router in (
        auth.router,
        budget.router,
        api_users.router,
        dramas.router,
        # Literal paths first: `/tasks/queue/status`, then seed 003's `/tasks/stats`,
        # `/tasks/create-video-task`…, never read as `/tasks/{task_id}`.
        tasks.queue_router,
        video_tasks.router,
        tasks.router,
        pipeline.router,
        pipeline_stages.router,
        system.voices_router,
        providers.router,
    ):
        api.include_router(router)
    api.include_router(scripts.router)
    api.include_router(characters.router)
    api.include_router(assets.router)
    api.include_router(storyboards.router)
    api.include_router(videos.router)
    api.include_router(realtime.router)
    api.include_router(monitoring.router)
    api.include_router(personas.router)
    api.include_router(conversations.router)
    # Before workflow.router: `/workflow/script` and the other stage paths are never read as
    # a workflow id.
    api.include_router(workflow_stages.router)
    api.include_router(workflow.router)
    api.include_router(dynamic_subtitles.router)
    api.include_router(screenplays.router)
    api.include_router(media_generation.router)
    app.include_router(api)
    app.include_router(media.router)
    app.include_router(system.router)
    app.include_router(system.router, prefix=API_PREFIX, include_in_schema=False)
    return app
