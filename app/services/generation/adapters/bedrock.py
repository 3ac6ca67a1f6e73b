"""Amazon Bedrock text-to-image through boto3's bedrock-runtime `invoke_model`: one blocking call per request.

Request bodies as the Bedrock user guide documents them:
- Amazon Titan Image Generator (v1, v2) and Amazon Nova Canvas: `{"taskType": "TEXT_IMAGE",
  "textToImageParams": {"text", "negativeText"}, "imageGenerationConfig": {"numberOfImages", "width",
  "height", "seed", "cfgScale", "quality"}}` → `{"images": [base64, ...], "error": null}`.
- Stability AI (SD3.5 Large, Stable Image Core/Ultra): `{"prompt", "negative_prompt", "seed", "aspect_ratio",
  "mode": "text-to-image", "output_format"}` → `{"images": [base64], "seeds": [...], "finish_reasons": [null]}`;
  one image per call, so n images are n calls with consecutive seeds.

botocore's own retries are off: we retry with the same backoff as the HTTP providers and count one breaker
failure per call (botocore's standard mode sleeps up to seconds per retry and the breaker could not see them).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import boto3
import botocore.loaders
import botocore.session
import pybreaker
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from app.providers.files import decode_base64_image
from app.providers.http import RETRYABLE_CODES, HttpOptions, get_breaker, image_options
from app.services.generation.adapters.checks import check_request as check_generation_request
from app.services.generation.base import (
    Capabilities,
    GeneratedImage,
    GenerationRequest,
    ProviderError,
    SyncCallProvider,
)
from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.ai.builders import Snapshot
    from app.settings import Settings

DEFAULT_MODEL = "amazon.titan-image-generator-v2:0"
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # five 1408-px PNGs in base64 are ~20 MB
# Titan Image Generator's documented width x height pairs.
TITAN_SIZES = ("1024x1024", "768x768", "512x512", "768x1152", "384x576", "1152x768", "576x384", "768x1280",
               "384x640", "1280x768", "640x384", "896x1152", "448x576", "1152x896", "576x448", "768x1408",
               "384x704", "1408x768", "704x384", "640x1408", "320x704", "1408x640", "704x320", "1152x640",
               "1173x640")
# Stability models take an aspect ratio and answer at about one megapixel; these are their output sizes.
STABILITY_SIZES = {"1024x1024": "1:1", "1344x768": "16:9", "1536x640": "21:9", "832x1216": "2:3",
                   "1216x832": "3:2", "896x1088": "4:5", "1088x896": "5:4", "768x1344": "9:16", "640x1536": "9:21"}
NOVA_MAX_PIXELS = 4_194_304
_PROFILE_PREFIX = re.compile(r"^(?:us|eu|apac|us-gov|global|jp|au|ca)\.")  # cross-region inference profiles
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "ModelNotReadyException",
                        "ServiceQuotaExceededException"})
_AUTH = frozenset({"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
                   "ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationTokenException",
                   "IncompleteSignatureException"})
_SERVER = frozenset({"InternalServerException", "ServiceUnavailableException", "ModelTimeoutException",
                     "ModelErrorException", "ServiceUnavailable", "InternalFailure"})


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    # botocore parses the service's JSON model for every new session (~150 ms); its loader caches it, so
    # one loader for all sessions makes a provider rebuild (new settings) cost ~10 ms. Sessions stay
    # separate because each resolves and caches its own credentials.
    return botocore.loaders.create_loader()


@dataclass(frozen=True)
class ModelFamily:
    kind: str  # "titan", "nova" or "stability"
    max_prompt_chars: int
    max_seed: int
    capabilities: Capabilities


_FAMILIES = {
    "titan": ModelFamily("titan", 512, 2_147_483_646, Capabilities(
        negative_prompt=True, seed=True, max_n=5, sizes=TITAN_SIZES, min_side=320, max_side=1408)),
    "nova": ModelFamily("nova", 1024, 858_993_459, Capabilities(
        negative_prompt=True, seed=True, max_n=5, min_side=320, max_side=4096, size_multiple=16)),
    "stability": ModelFamily("stability", 10_000, 4_294_967_294, Capabilities(
        negative_prompt=True, seed=True, max_n=4, sizes=tuple(STABILITY_SIZES), min_side=640, max_side=1536)),
}


def model_family(model: str) -> ModelFamily:
    """The request family of a Bedrock model id (a cross-region profile prefix like "us." is allowed)."""
    bare = _PROFILE_PREFIX.sub("", model or "")
    if bare.startswith("amazon.titan-image-generator-"):
        return _FAMILIES["titan"]
    if bare.startswith("amazon.nova-canvas-"):
        return _FAMILIES["nova"]
    if bare.startswith("stability."):
        return _FAMILIES["stability"]
    raise ValueError(f"{model!r} is not a Bedrock image model Atelier supports "
                     "(amazon.titan-image-generator-*, amazon.nova-canvas-*, stability.*)")


def _from_client_error(exc: ClientError) -> ProviderError:
    error = exc.response.get("Error") or {}
    code, message = str(error.get("Code") or ""), " ".join(str(error.get("Message") or "").split())[:300]
    status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    said = f"Bedrock answered {code or f'HTTP {status}'}" + (f": {message}" if message else "")
    if code in _THROTTLED or status == 429:
        return ProviderError(said, code="rate_limited", retryable=True)
    if code in _AUTH or status in (401, 403):
        return ProviderError(f"{said} (check the AWS credentials and that this model is enabled in the Bedrock "
                             "console for this region)", code="auth_failed")
    if code in _SERVER or status >= 500:
        return ProviderError(said, code="provider_error", retryable=True)
    if code == "ResourceNotFoundException":
        return ProviderError(f"{said} (is the model offered in this region?)", code="bad_request")
    return ProviderError(said, code="bad_request")  # ValidationException, content filters, anything else 4xx


class BedrockProvider(SyncCallProvider):
    """Titan Image Generator, Nova Canvas and Stability models on Amazon Bedrock.

    Credentials come from boto3's usual chain (environment, profile, instance role) unless given.
    `endpoint_url` points boto3 elsewhere (a VPC endpoint, or the fake server in tests). Cancel cannot
    stop a call on the wire, so it answers False once the call has started (see SyncCallProvider).
    """

    name = "bedrock"
    label = "Amazon Bedrock"

    def __init__(self, *, region: str, model: str = DEFAULT_MODEL, models: tuple[str, ...] = (),
                 endpoint_url: str | None = None, max_concurrency: int = 2, http: HttpOptions | None = None,
                 aws_access_key_id: str | None = None, aws_secret_access_key: str | None = None,
                 aws_session_token: str | None = None, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
                 cfg_scale: float | None = None, quality: str = "standard"):
        if not _REGION.match(region or ""):
            raise ValueError(f"{region!r} is not an AWS region like 'us-east-1'")
        offered = tuple(dict.fromkeys((model, *models)))
        for each in offered:
            model_family(each)  # fail at start-up, not on the first request
        if cfg_scale is not None and not 1.1 <= cfg_scale <= 10.0:
            raise ValueError("cfg_scale must be between 1.1 and 10 for Titan and Nova Canvas")
        if quality not in ("standard", "premium"):
            raise ValueError("quality must be 'standard' or 'premium'")
        self.model = model
        self.max_concurrency = max(1, max_concurrency)
        super().__init__()
        self.capabilities = replace(model_family(model).capabilities, models=offered)
        self._options = opts = http or HttpOptions(read_timeout=120.0, max_response_bytes=max_response_bytes)
        self._max_bytes = opts.max_response_bytes
        self._cfg_scale, self._quality = cfg_scale, quality
        core = botocore.session.get_session()
        core.register_component("data_loader", _shared_loader())
        session = boto3.session.Session(aws_access_key_id=aws_access_key_id or None,
                                        aws_secret_access_key=aws_secret_access_key or None,
                                        aws_session_token=aws_session_token or None, region_name=region,
                                        botocore_session=core)
        self._client = session.client("bedrock-runtime", endpoint_url=endpoint_url or None, config=Config(
            connect_timeout=opts.connect_timeout, read_timeout=opts.read_timeout,
            retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=self.max_concurrency))
        self._breaker = get_breaker(self.name, fail_max=opts.breaker_fail_max,
                                    reset_seconds=opts.breaker_reset_seconds)
        self._backoff = wait_exponential_jitter(multiplier=opts.backoff, max=opts.backoff_max, jitter=opts.backoff)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def generate(self, request: GenerationRequest) -> list[GeneratedImage]:
        model = request.model or self.model
        family = model_family(model)
        check_generation_request(request, replace(family.capabilities, models=self.capabilities.models),
                                 label=f"{self.label} ({model})", max_prompt_chars=family.max_prompt_chars)
        seed = request.seed % (family.max_seed + 1)
        if family.kind == "stability":
            images = []
            for index in range(request.n):
                image_seed = (seed + index) % (family.max_seed + 1)
                answer = self._invoke(model, self._stability_body(request, model, image_seed))
                images.append(self._stability_image(answer, model, image_seed, index))
            return images
        answer = self._invoke(model, self._amazon_body(request, family, seed))
        return self._amazon_images(answer, model, seed, request.n)

    def _amazon_body(self, request: GenerationRequest, family: ModelFamily, seed: int) -> dict[str, Any]:
        if family.kind == "nova":
            ratio = max(request.width, request.height) / min(request.width, request.height)
            if request.width * request.height > NOVA_MAX_PIXELS or ratio > 4:
                raise ProviderError("Nova Canvas makes images of at most 4.19 megapixels with sides no more than "
                                    "4:1 apart; choose a smaller or squarer size.", code="bad_request")
        params: dict[str, Any] = {"text": request.prompt}
        if request.negative_prompt:
            if len(request.negative_prompt.strip()) < 3:
                raise ProviderError("Bedrock needs a negative prompt of at least 3 characters (or none).",
                                    code="bad_request")
            params["negativeText"] = request.negative_prompt
        cfg_scale = self._cfg_scale if self._cfg_scale is not None else (6.5 if family.kind == "nova" else 8.0)
        config = {"numberOfImages": request.n, "width": request.width, "height": request.height, "seed": seed,
                  "quality": self._quality, "cfgScale": cfg_scale}  # the documented defaults per model
        return {"taskType": "TEXT_IMAGE", "textToImageParams": params, "imageGenerationConfig": config}

    @staticmethod
    def _stability_body(request: GenerationRequest, model: str, seed: int) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": request.prompt, "seed": seed, "output_format": "png",
                                "aspect_ratio": STABILITY_SIZES[f"{request.width}x{request.height}"]}
        if "sd3" in model:
            body["mode"] = "text-to-image"  # SD3/3.5 also do image-to-image; the Stable Image models do not take it
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        return body

    def _decode(self, text: Any, model: str) -> Any:
        return decode_base64_image(text, max_bytes=self._max_bytes, source=f"Bedrock ({model})")

    def _amazon_images(self, answer: dict[str, Any], model: str, seed: int, n: int) -> list[GeneratedImage]:
        if answer.get("error"):  # Titan reports a blocked prompt or output here
            said = " ".join(str(answer["error"]).split())[:300]
            raise ProviderError(f"Bedrock ({model}) did not make the image: {said}", code="bad_request")
        encoded = answer.get("images")
        if not isinstance(encoded, list) or not encoded:
            raise ProviderError(f"Bedrock ({model}) answered without images", code="bad_response")
        images = []
        for index, text in enumerate(encoded[:n]):
            fetched = self._decode(text, model)
            images.append(GeneratedImage(fetched.data, fetched.mime, seed=seed, extras={
                "model": model, "batch_index": index, "width": fetched.width, "height": fetched.height}))
        return images

    def _stability_image(self, answer: dict[str, Any], model: str, seed: int, index: int) -> GeneratedImage:
        reasons = answer.get("finish_reasons")
        reason = reasons[0] if isinstance(reasons, list) and reasons else None
        if reason:  # "Filter reason: prompt", "Filter reason: output image", "Inference error"
            raise ProviderError(f"Bedrock ({model}) did not make the image: {reason}",
                                code="provider_error" if "error" in str(reason).lower() else "bad_request")
        encoded = answer.get("images")
        if not isinstance(encoded, list) or len(encoded) != 1:
            raise ProviderError(f"Bedrock ({model}) answered without exactly one image", code="bad_response")
        seeds = answer.get("seeds")
        if isinstance(seeds, list) and seeds and isinstance(seeds[0], int) and not isinstance(seeds[0], bool):
            seed = seeds[0]
        fetched = self._decode(encoded[0], model)
        return GeneratedImage(fetched.data, fetched.mime, seed=seed, extras={
            "model": model, "batch_index": index, "width": fetched.width, "height": fetched.height})

    def _invoke(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body).encode()
        try:
            # One breaker call around the retries, as RemoteClient does: a call that failed after its retries
            # counts once, and rate limits or bad requests do not count at all (get_breaker's exclude).
            with self._breaker.calling():
                return Retrying(stop=stop_after_attempt(self._options.retries + 1), wait=self._wait,
                                retry=retry_if_exception(_should_retry), reraise=True,
                                )(self._invoke_once, model, payload)
        except pybreaker.CircuitBreakerError as exc:
            raise ProviderError(f"{self.label} is failing; not calling it for a while (circuit open)",
                                code="provider_unavailable", retryable=True,
                                retry_after=self._options.breaker_reset_seconds) from exc

    def _wait(self, state: Any) -> float:
        return self._backoff(state)

    def _invoke_once(self, model: str, payload: bytes) -> dict[str, Any]:
        try:
            response = self._client.invoke_model(modelId=model, body=payload, contentType="application/json",
                                                 accept="application/json")
            raw = response["body"].read(self._max_bytes + 1)
        except ClientError as exc:
            raise _from_client_error(exc) from exc
        except (ReadTimeoutError, ConnectTimeoutError) as exc:
            raise ProviderError(f"{self.label} did not answer in time ({type(exc).__name__})", code="timeout",
                                retryable=True) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise ProviderError(f"no usable AWS credentials for {self.label} ({exc})", code="auth_failed") from exc
        except BotoCoreError as exc:  # connection refused or reset, DNS, a broken stream
            raise ProviderError(f"cannot reach {self.label} ({type(exc).__name__}: {exc})",
                                code="provider_unavailable", retryable=True) from exc
        if len(raw) > self._max_bytes:
            raise ProviderError(f"{self.label} sent an answer larger than {self._max_bytes} bytes",
                                code="bad_response")
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise ProviderError(f"{self.label} answered with something that is not JSON", code="bad_response") from exc
        if not isinstance(answer, dict):
            raise ProviderError(f"{self.label} answered with JSON that is not an object", code="bad_response")
        return answer


def _should_retry(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.code in RETRYABLE_CODES


def from_settings(settings: Settings) -> BedrockProvider:
    """The registry's builder (app/providers/registry.py), from IMAGE_BEDROCK_* (credentials: AWS's chain)."""
    return BedrockProvider(region=settings.image_bedrock_region, model=settings.image_bedrock_model,
                           endpoint_url=settings.image_bedrock_endpoint_url or None,
                           http=image_options(settings, "bedrock"))


def settings_connection(settings: Settings) -> tuple[str, str, str, dict[str, str]]:
    """(base URL, key, model, options) of the AI connection `make run` seeds from these settings once."""
    options = {"region": settings.image_bedrock_region}
    if settings.image_bedrock_endpoint_url:
        options["endpoint_url"] = settings.image_bedrock_endpoint_url
    return "", "", settings.image_bedrock_model, options

def from_connection(conn: Snapshot, model: str) -> BedrockProvider:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    return BedrockProvider(region=conn.options.get("region", ""), model=model,
                           endpoint_url=conn.options.get("endpoint_url") or None,
                           http=image_options(get_settings(), "bedrock"))
