"""The one place that reads the environment (and `.env`)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.providers import registry as providers
from app.settings_guard import GuardSettings, NetworkList, parse_networks
from app.settings_sso import SsoProvider, parse_providers

DEFAULT_SECRET = "dev-only-insecure-secret-change-me"


class Settings(GuardSettings, BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    secret_key: str = DEFAULT_SECRET
    port: int = Field(default=3000, ge=1, le=65535)
    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    # Public base URL used in emails and as the default allowed origin.
    public_url: str = ""
    # Keys the signed public picture links of emails (app/services/templates/image_links.py); empty: derived
    # from SECRET_KEY. Changing it (or SECRET_KEY when this is empty) changes every link: sent emails lose
    # their library pictures.
    image_links_secret: str = ""
    # Comma-separated origins allowed for websockets, CORS and cookie-auth writes.
    allowed_origins: Annotated[list[str], NoDecode] = []
    workers: int = Field(default=1, ge=0, le=32)
    # Encrypts the API keys of AI connections at rest; empty: derived from SECRET_KEY. To rotate, put the
    # old value first in AI_KEYS_PREVIOUS (comma-separated), set the new one, run `make rotate-ai-keys`.
    ai_keys_secret: str = ""
    ai_keys_previous: Annotated[list[str], NoDecode] = []
    # A worker whose pulse (3 per TTL) stops this long is dead; its running jobs are retried or failed.
    worker_ttl_seconds: int = Field(default=6, ge=2)
    # Threads each web process runs blocking request work in (AnyIO's pool, whose own default is 40). With 40,
    # 64 clients made 32 runnable threads per process fighting for one GIL: a write transaction waited for the
    # GIL between its statements while holding SQLite's lock, so writes took seconds (bench/web_load.py, 2 cores:
    # mix p99 2.3 s at 40, 0.82 s at 8, 0.46 s at 4; throughput +27 % at 8). Re-measured 2026-12-07 after the
    # flat routes, two runs each (threads → mix req/s, p99, write p99): 8 → 449/595, 968/654 ms, 1.8/2.0 s;
    # 4 → 500/602, 495/396 ms, 0.8/0.7 s; 2 → 575/588, 406/352 ms, 0.5/0.4 s. 4 halves the tail against 8 and
    # still leaves room for the few routes that wait on a provider (Stripe, an identity provider, an AI
    # connection test; each has a timeout and a breaker) without stalling the rest.
    web_threads: int = Field(default=4, ge=2, le=400)
    reaper_interval_seconds: int = Field(default=2, ge=1)

    session_ttl_hours: int = Field(default=24 * 14, ge=1)
    reset_ttl_minutes: int = Field(default=60, ge=5)
    password_min_length: int = Field(default=10, ge=8)
    # "limits" rate strings, e.g. "5/minute;20/hour".
    # Sign-in: one account from one address (tight), one address across accounts (looser), and
    # one account from addresses it never signed in from (high: a botnet; see services/signin.py).
    signin_limit_per_account_ip: str = "5/minute;20/hour"
    signin_limit_per_ip: str = "20/minute;200/hour"
    signin_limit_per_account: str = "30/hour;100/day"
    reset_limit_per_account: str = "3/hour"
    reset_limit_per_ip: str = "10/hour"
    register_limit_per_ip: str = "10/hour"
    # Who may create an account (app.services.auth.signup_policy): anyone ("open"), only someone holding an
    # invitation ("invite"), or addresses at SIGNUP_DOMAINS (comma list) or with an invitation ("domains").
    # The first account (the admin) may always sign up.
    signup_mode: Literal["open", "invite", "domains"] = "open"
    signup_domains: Annotated[list[str], NoDecode] = []
    # New accounts wait (User.pending, no sign-in) until a site admin approves them.
    signup_approval: bool = False
    # Lifetime of a workspace invitation link; resending makes a new link with a new lifetime.
    invite_ttl_hours: int = Field(default=7 * 24, ge=1, le=90 * 24)
    # Invitation emails one member may send (new and resent), a "limits" rate string.
    invite_limit_per_user: str = "30/hour;200/day"
    # Template test sends one member may make (each to at most 10 addresses), a "limits" rate string.
    template_test_send_limit_per_user: str = "10/hour;50/day"
    max_json_body_bytes: int = 64 * 1024

    # Storage: "local" (a folder under DATA_DIR) or "s3" (S3, MinIO, anything S3-compatible).
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    # Lifetime of presigned download links.
    download_url_seconds: int = Field(default=300, ge=10, le=3600)

    # Uploads: bytes per file, bytes per request, files per request, decoded pixels per image.
    max_upload_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_upload_request_bytes: int = Field(default=2 * 1024 * 1024 * 1024, ge=1024)
    max_upload_files: int = Field(default=2000, ge=1)
    max_image_pixels: int = Field(default=100_000_000, ge=10_000)
    # Pixels of an image in a format that cannot decode at a reduced scale (all but JPEG): it is
    # decoded whole (up to 4 bytes a pixel), so this bounds a process's memory (~200 MB at 50 MP).
    max_full_decode_pixels: int = Field(default=50_000_000, ge=10_000)
    # Total bytes one uploaded ZIP may expand to.
    max_archive_bytes: int = Field(default=2 * 1024 * 1024 * 1024, ge=1024)
    thumbnail_size: int = Field(default=512, ge=64, le=2048)
    # Assets per thumbnail job: one RQ job costs a fork, so small items go in batches.
    ingest_batch_size: int = Field(default=25, ge=1, le=500)

    # Remote vision providers for the renamer (the local analyzer needs nothing).
    # OpenAI-compatible API root, e.g. https://api.openai.com/v1 or http://localhost:11434/v1 (Ollama).
    vision_openai_base_url: str = ""
    # Bearer key; empty for local servers (Ollama, LM Studio, vLLM).
    vision_openai_api_key: str = ""
    # A vision-capable model id; empty turns the provider off.
    vision_openai_model: str = ""
    vision_openai_concurrency: int = Field(default=4, ge=1, le=32)
    # Google Cloud Vision API key; empty turns Google off.
    vision_google_api_key: str = ""
    vision_google_endpoint: str = "https://vision.googleapis.com"
    # Read timeout per request to a remote vision provider.
    vision_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    # Image descriptions are kept this long for reuse (the same bytes are not paid for twice), then
    # forgotten: they outlive the images they describe. 0 keeps them forever.
    vision_cache_days: int = Field(default=90, ge=0, le=3650)

    # Image generation. The local design engine needs nothing; each remote provider is on when its
    # URL or key is set. Read timeout per request to an image provider:
    image_default_provider: str = "local"
    image_timeout_seconds: float = Field(default=120.0, gt=0, le=900)
    # Per provider, over image_timeout_seconds: a blocking AUTOMATIC1111 call on a slow GPU may need more.
    image_timeouts: dict[str, float] = {}
    # A generation job gives up waiting on a provider after this long (and cancels it there).
    image_job_deadline_seconds: int = Field(default=900, ge=10, le=3600)
    # OpenAI Images API or a compatible server: API root such as https://api.openai.com/v1.
    image_openai_base_url: str = ""
    image_openai_api_key: str = ""
    image_openai_model: str = "gpt-image-1"
    # AUTOMATIC1111 / Forge web UI started with --api, e.g. http://127.0.0.1:7860; optional "user:password".
    image_a1111_url: str = ""
    image_a1111_auth: str = ""
    image_a1111_steps: int = Field(default=25, ge=1, le=150)
    # ComfyUI server, e.g. http://127.0.0.1:8188; optional path to a JSON file {"workflow": <API-format
    # graph>, "params": {"prompt": [node, "inputs", field], ...}}; empty: the bundled text-to-image one.
    image_comfyui_url: str = ""
    image_comfyui_workflow: str = ""
    image_comfyui_checkpoint: str = "sd_xl_base_1.0.safetensors"
    # fal.ai queue API.
    image_fal_key: str = ""
    image_fal_model: str = "fal-ai/flux/dev"
    image_fal_base_url: str = "https://queue.fal.run"
    # Replicate predictions API.
    image_replicate_api_token: str = ""
    image_replicate_model: str = "black-forest-labs/flux-schnell"
    image_replicate_base_url: str = "https://api.replicate.com"
    # Stability AI REST API (v2beta stable-image).
    image_stability_api_key: str = ""
    image_stability_model: str = "core"
    image_stability_base_url: str = "https://api.stability.ai"
    # AWS Bedrock through boto3 (credentials from the usual AWS chain); on when a region is set.
    image_bedrock_region: str = ""
    image_bedrock_model: str = "amazon.titan-image-generator-v2:0"
    image_bedrock_endpoint_url: str = ""
    # Generations a user may start per window ("limits" rate string).
    generate_limit_per_user: str = "30/minute;500/day"

    # Image workflows: images worked on at once inside one run's job, images per run, recipes per user.
    workflow_threads: int = Field(default=2, ge=1, le=16)
    workflow_max_items: int = Field(default=2000, ge=1, le=10000)
    workflow_max_recipes: int = Field(default=200, ge=1)
    # Remote steps (upscale, remove background) use fal when IMAGE_FAL_KEY is set, else Replicate when
    # IMAGE_REPLICATE_API_TOKEN is; these name the models ("" turns a remote step off).
    workflow_fal_upscale_model: str = "fal-ai/esrgan"
    workflow_fal_background_model: str = "fal-ai/imageutils/rembg"
    workflow_replicate_upscale_model: str = "nightmareai/real-esrgan"
    workflow_replicate_background_model: str = "cjwbw/rembg"

    # Moderation of prompts (always: the denylist) and, when a URL is set, an OpenAI-compatible
    # /moderations endpoint. With fail-closed on, an unreachable moderation service refuses prompts.
    moderation_openai_base_url: str = ""
    moderation_openai_api_key: str = ""
    moderation_openai_model: str = "omni-moderation-latest"
    moderation_threshold: float = Field(default=0.5, gt=0, le=1)
    moderation_fail_closed: bool = False
    # Also send every generated image to the moderation endpoint before keeping it.
    moderation_check_outputs: bool = False

    # Renamer: images per user per calendar month (the plan's quota).
    rename_monthly_images: int = Field(default=5000, ge=0)

    # Library: how long a deleted picture can be brought back (Undo) before the reaper removes it for good.
    library_undo_seconds: int = Field(default=120, ge=0, le=30 * 86400)

    # Slide decks. Text comes from the local engine (offline) or, when a URL and a model are set, any
    # OpenAI-compatible chat API (OpenAI, OpenRouter, Ollama at http://localhost:11434/v1, LM Studio, vLLM).
    slides_openai_base_url: str = ""
    slides_openai_api_key: str = ""
    slides_openai_model: str = ""
    # Slides written at once; 5 makes a 10-slide deck in two answer times.
    slides_concurrency: int = Field(default=5, ge=1, le=32)
    # Read timeout per chat request (a local model writing a slide can be slow), and repair requests per slide.
    slides_timeout_seconds: float = Field(default=180.0, gt=0, le=900)
    slides_repair_attempts: int = Field(default=2, ge=0, le=5)
    # Image provider for slide pictures; "" uses IMAGE_DEFAULT_PROVIDER.
    slides_image_provider: str = ""
    # PDF export through LibreOffice gives up after this many seconds; decks kept per user.
    slides_pdf_timeout_seconds: int = Field(default=120, ge=10, le=900)
    slides_max_decks: int = Field(default=500, ge=1)

    # Credits. Local engines cost nothing by default; prices are per unit of work.
    monthly_free_credits: int = Field(default=100, ge=0)
    # JSON object, e.g. {"local": 0, "openai": 4}
    provider_prices: dict[str, int] = {"local": 0}

    # Single sign-on (app/settings_sso.py): provider names, each configured by SSO_<NAME>_* variables
    # (CLIENT_ID, CLIENT_SECRET, DISCOVERY_URL, SCOPES, LABEL, TENANT, ROLE_CLAIM, ROLE_MAP, WORKSPACE_ID…).
    sso_providers: Annotated[list[str], NoDecode] = []
    # Role mapping defaults for every provider that does not set its own: the claim, the JSON map
    # {"claim value": "role"} and the team workspace it applies to.
    oidc_role_claim: str = ""
    oidc_role_map: str = ""
    sso_workspace_id: str = ""
    # Seconds a sign-in with a provider may take from the button to the callback (state, nonce, PKCE).
    sso_state_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    _sso: dict[str, SsoProvider] = PrivateAttr(default_factory=dict)
    _public_url_set: bool = PrivateAttr(default=False)

    # Billing (app/services/billing/): off unless STRIPE_SECRET_KEY is set. The webhook signing secret
    # (whsec_…) is then required; STRIPE_API_BASE points the client elsewhere (tests: the fake Stripe).
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    # A webhook whose signed timestamp is further than this from now, either way, is refused.
    stripe_webhook_tolerance: int = Field(default=300, ge=10, le=3600)

    # Operations (README "Operations"). /metrics answers a bearer METRICS_TOKEN, or callers from the networks
    # in METRICS_ALLOW (comma-separated CIDRs, no token needed); neither set: /metrics is off (404).
    metrics_token: str = ""
    metrics_allow: NetworkList = []
    # "text" (readable) or "json" (one object per line, with request, user, workspace and job ids).
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "Atelier <no-reply@localhost>"

    @field_validator("image_timeouts")
    @classmethod
    def _image_timeouts(cls, value: dict[str, float]) -> dict[str, float]:
        known = providers.names("images")
        for name, seconds in value.items():
            if name not in known:
                raise ValueError(f"IMAGE_TIMEOUTS names {name!r}; providers are {', '.join(known)}")
            if not 0 < seconds <= 3600:
                raise ValueError(f"IMAGE_TIMEOUTS for {name!r} must be more than 0 and at most 3600 seconds")
        return value

    @field_validator("ai_keys_previous", mode="before")
    @classmethod
    def _split_previous_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("signup_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(part).strip().lower().lstrip("@").rstrip(".") for part in value if str(part).strip()]
        return value

    @field_validator("sso_providers", mode="before")
    @classmethod
    def _split_providers(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _split_metrics_networks(cls, value: object) -> object:
        try:
            return parse_networks(value)
        except ValueError as exc:
            raise ValueError(f"METRICS_ALLOW: {exc} (say 10.0.0.0/8 or 127.0.0.1)") from exc

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _fill_and_refuse_unsafe(self) -> Settings:
        self._public_url_set = bool(self.public_url.strip())
        if not self.public_url:
            self.public_url = f"http://localhost:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        if not self.allowed_origins:
            self.allowed_origins = [self.public_url]
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'atelier.db').resolve()}"
        if self.signup_mode == "domains" and not self.signup_domains:
            raise ValueError("SIGNUP_DOMAINS must list at least one domain when SIGNUP_MODE=domains")
        self._sso = parse_providers(self.sso_providers, _sso_environment(self.model_config.get("env_file")),
                                    defaults={"role_claim": self.oidc_role_claim, "role_map": self.oidc_role_map,
                                              "workspace_id": self.sso_workspace_id})
        if self.stripe_secret_key is not None and not self.stripe_secret_key.get_secret_value().strip():
            self.stripe_secret_key = None
        if self.stripe_secret_key is not None and not (
                self.stripe_webhook_secret and self.stripe_webhook_secret.get_secret_value().strip()):
            raise ValueError("STRIPE_WEBHOOK_SECRET (whsec_…) is required when STRIPE_SECRET_KEY is set: "
                             "without it no payment can be verified")
        if self.app_env == "production":
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of at least 32 characters "
                    "when APP_ENV=production"
                )
            if self.storage_backend == "s3" and not self.s3_bucket:
                raise ValueError("S3_BUCKET is required when STORAGE_BACKEND=s3")
            if "*" in self.allowed_origins:
                raise ValueError("ALLOWED_ORIGINS may not contain '*' when APP_ENV=production")
        return self

    @property
    def public_url_set(self) -> bool:
        """Whether PUBLIC_URL was given (not the localhost default): email pictures need a real address."""
        return self._public_url_set

    @property
    def is_https(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def billing_enabled(self) -> bool:
        return self.stripe_secret_key is not None

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def sso(self) -> dict[str, SsoProvider]:
        """The configured sign-in providers by name, in SSO_PROVIDERS order."""
        return self._sso

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    def redis_db_url(self, offset: int) -> str:
        """The Redis URL for a purpose: offset 0 for queues/throttles, 1 for Reflex state."""
        parts = urlsplit(self.redis_url or "redis://127.0.0.1:6379/0")
        base_db = int(parts.path.strip("/") or 0)
        return urlunsplit(parts._replace(path=f"/{base_db + offset}"))


def _sso_environment(env_file: object) -> dict[str, str]:
    """The SSO_* variables (per-provider names are not fields): from `.env`, then the real environment."""
    from dotenv import dotenv_values

    found: dict[str, str] = {}
    if isinstance(env_file, str | Path) and Path(env_file).is_file():
        found.update({k.upper(): v for k, v in dotenv_values(env_file).items() if v is not None})
    found.update({k.upper(): v for k, v in os.environ.items()})
    return {k: v for k, v in found.items() if k.startswith("SSO_")}


@lru_cache
def get_settings() -> Settings:
    return Settings()
