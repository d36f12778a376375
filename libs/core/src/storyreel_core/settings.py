"""Typed settings from `STORYREEL_*` environment variables, one class for every deployable.

Embedded mode needs none of them: each backing service falls back to its local stand-in
(SQLite, a folder, the bundled nats-server) when its URL is unset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAMES = ("script", "asset", "storyboard", "tts", "video", "workflow")
DEFAULT_PORTS = {
    "script": 50061,
    "asset": 50062,
    "storyboard": 50063,
    "tts": 50064,
    "video": 50065,
    "workflow": 50066,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STORYREEL_", extra="ignore")

    environment: Literal["embedded", "development", "production"] = "embedded"
    data_dir: Path = Path("data")
    log_level: str = "INFO"
    log_json: bool = False

    # Metadata: MongoDB when set, else SQLite under data_dir.
    mongodb_url: SecretStr | None = None
    mongodb_database: str = "storyreel"
    # Media: S3/MinIO when set, else a folder under data_dir.
    s3_endpoint: str | None = None
    s3_public_endpoint: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "storyreel"
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    # Jobs and events: that NATS server when set, else the bundled nats-server.
    nats_url: str | None = None

    # Gateway
    host: str = "127.0.0.1"
    port: int = 5678
    public_url: str | None = None
    jwt_secret: SecretStr | None = None
    # Short-lived: an access token also dies at once with logout or its session's revocation.
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 86400
    media_url_ttl_s: int = 3600
    max_upload_bytes: int = 50 * 1024 * 1024
    # Seed 003's media_urls: the whole fetch of one URL (redirects included) may take this
    # long; comma-separated CIDRs let through the SSRF guard (tests against loopback only).
    media_fetch_timeout_s: float = 30.0
    media_fetch_allow_networks: str = ""
    # Login throttling (`limits` strings, ";"-separated windows): attempts per account named
    # and per client address; past any window a login answers 429 with Retry-After.
    login_limit_account: str = "5/minute;30/hour"
    login_limit_address: str = "20/minute;200/hour"
    # The first admin, created at gateway start-up when missing (auth/admin_seed.py): the
    # password from admin_password or the file admin_password_file (one of them).
    admin_username: str | None = None
    admin_password: SecretStr | None = None
    admin_password_file: Path | None = None
    admin_email: str | None = None
    # The HMAC key API keys are stored under (auth/api_keys.py): this value, else the file
    # api_key_secret_file, else (embedded) data/secrets/api_key_secret, else derived from the
    # JWT secret.
    api_key_secret: SecretStr | None = None
    api_key_secret_file: Path | None = None
    grpc_deadline_s: float = 10.0
    # Realtime (WebSocket /api/v1/ws, SSE /api/v1/tasks/{id}/events): a socket with no client
    # message for ws_idle_timeout_s, or open for realtime_max_lifetime_s, is closed after a
    # `reconnect` message; clients reconnect and subscribe again.
    ws_idle_timeout_s: float = 90.0
    realtime_max_lifetime_s: float = 3600.0
    ws_max_subscriptions: int = 100
    # Cost limits: a render's pixels × fps × seconds (render_cost.py; 0 = none) and the tasks
    # one user may have pending or running at once (task_launcher.py; 0 = no limit).
    max_render_pixel_frames: int = 1080 * 1920 * 30 * 180
    max_active_tasks_per_user: int = 10
    # US dollars a request's provider calls may cost when neither the request (`budget`) nor
    # the user (`PUT /users/me/budget`) sets a limit; unset = no limit (default_budget.py).
    default_budget: float | None = Field(default=None, ge=0)
    # CPU niceness of every ffmpeg the video service starts (0 = the service's own). Checked
    # here at start-up; `storyreel_video.ffmpeg_runner.lower_priority` applies it per process.
    ffmpeg_nice: int = Field(default=10, ge=0, le=19)
    # The event loop before the stage work (`storyreel_core.cpu_priority`): worker threads run
    # this much nicer than the loop's thread (0 = equal), and a thread holding the GIL hands it
    # to a waiting one (the loop, after a socket write) after this many milliseconds.
    work_nice: int = Field(default=10, ge=0, le=19)
    gil_switch_interval_ms: float = Field(default=1.0, ge=0.1, le=100.0)
    # Monitoring alert rules (GET /monitoring/alerts): a job consumer holding more than
    # alert_queue_lag messages; more than alert_failure_rate of the tasks finished in the last
    # alert_window_s failed (once at least alert_min_finished finished); a dependency down.
    alert_queue_lag: int = Field(default=50, ge=0)
    alert_failure_rate: float = Field(default=0.5, ge=0.0, le=1.0)
    alert_min_finished: int = Field(default=5, ge=1)
    alert_window_s: float = Field(default=3600.0, gt=0)

    # Services: where the gateway and the workflow reach each one, and the port each listens on.
    grpc_host: str = "127.0.0.1"
    grpc_port: int | None = None
    script_addr: str = f"127.0.0.1:{DEFAULT_PORTS['script']}"
    asset_addr: str = f"127.0.0.1:{DEFAULT_PORTS['asset']}"
    storyboard_addr: str = f"127.0.0.1:{DEFAULT_PORTS['storyboard']}"
    tts_addr: str = f"127.0.0.1:{DEFAULT_PORTS['tts']}"
    video_addr: str = f"127.0.0.1:{DEFAULT_PORTS['video']}"
    workflow_addr: str = f"127.0.0.1:{DEFAULT_PORTS['workflow']}"

    # Jobs
    job_ack_wait_s: float = 30.0
    job_max_deliver: int = 4
    job_backoff_s: list[float] = Field(default_factory=lambda: [1.0, 5.0, 15.0])
    job_concurrency: int = 2
    # No task left running for ever: a running job's watcher stamps `heartbeat_at` on its task
    # every task_heartbeat_s; every task_reaper_interval_s (0 = off) each service checks its
    # pending/running tasks untouched for task_stale_after_s and fails them (deliveries used
    # up) or publishes their job again (the job is gone and deliveries remain).
    task_heartbeat_s: float = 10.0
    task_stale_after_s: float = 180.0
    task_reaper_interval_s: float = 30.0

    # AI providers: the TOML file of `storyreel_core.providers.config` (unset = offline only).
    providers: Path | None = None

    ffmpeg: str | None = None
    video_preset: str = "veryfast"

    # Telemetry: spans go to the OTLP/HTTP collector at otlp_endpoint when set (e.g.
    # http://otel-collector:4318); tracing="console" prints them, "off" sends them nowhere.
    # Standalone services serve Prometheus metrics on metrics_port (0 = off); the gateway and
    # the embedded process serve them on the gateway's /metrics.
    otlp_endpoint: str | None = None
    tracing: Literal["console", "off"] | None = None
    metrics_port: int = 9464

    def service_addr(self, name: str) -> str:
        value: str = getattr(self, f"{name}_addr")
        return value

    @property
    def embedded(self) -> bool:
        return self.environment == "embedded"
