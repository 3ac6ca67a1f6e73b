"""Image generation through the OpenAI Images API (`POST /images/generations`) and servers that copy it.

The API answers in one blocking call, so this is a `SyncCallProvider`: the call runs on a thread and
cancel answers False once it is on the wire (OpenAI cannot stop it, and bills it). A request for more
images than the model makes per call (dall-e-3 makes one) becomes several calls, made one after the
other so that a cancel stops the ones not yet sent.

Retries: the generation call is retried only after a 429 (OpenAI refused it, so nothing was made or billed).
A timeout or a 5xx may come after OpenAI made (and billed) the images, e.g. a gateway 504 on a slow
gpt-image request, so those go back to the caller instead of being sent again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from app.providers.files import decode_base64_image, decode_image, fetch_image
from app.providers.http import HttpOptions, RemoteClient, image_options
from app.providers.submit import same_origin, send_submit
from app.services.generation.adapters.checks import check_request
from app.services.generation.adapters.common import (
    PROMPT_MAX,
    CallAwareProvider,
    as_generated,
    image_http_options,
)
from app.services.generation.base import Capabilities, GeneratedImage, GenerationRequest, ProviderError
from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.ai.builders import Snapshot
    from app.settings import Settings

MAX_N = 4  # images per request we offer; models that make fewer per call get several calls


@dataclass(frozen=True)
class ModelSpec:
    sizes: tuple[str, ...]  # "WxH" sizes the model accepts; () = whatever the server accepts
    per_call: int  # images one request may ask for
    b64_param: bool  # send response_format=b64_json (GPT image models refuse the parameter and send base64)
    prompt_max: int


_GPT_IMAGE = ModelSpec(("1024x1024", "1536x1024", "1024x1536"), 10, False, 32_000)
MODEL_SPECS: dict[str, ModelSpec] = {
    "gpt-image-1": _GPT_IMAGE,
    "gpt-image-1-mini": _GPT_IMAGE,
    "gpt-image-1.5": _GPT_IMAGE,
    "dall-e-3": ModelSpec(("1024x1024", "1792x1024", "1024x1792"), 1, True, 4_000),
    "dall-e-2": ModelSpec(("256x256", "512x512", "1024x1024"), 10, True, 1_000),
}
# Errors OpenAI gives when its safety system refused the prompt or the picture.
_FILTER_CODES = frozenset({"content_policy_violation", "moderation_blocked"})


def model_spec(model: str) -> ModelSpec:
    """What a model accepts; newer GPT image models and other servers' models are checked by the server."""
    if model in MODEL_SPECS:
        return MODEL_SPECS[model]
    if model.startswith("gpt-image"):
        return ModelSpec((), 10, False, 32_000)
    return ModelSpec((), MAX_N, True, PROMPT_MAX)  # OpenAI-compatible servers (LocalAI, proxies…)


def capabilities_for(model: str, models: tuple[str, ...] = ()) -> Capabilities:
    """The Generate page's controls for a model: its fixed sizes, no seed, no negative prompt."""
    spec = model_spec(model)
    sides = [int(side) for size in spec.sizes for side in size.split("x")]
    return Capabilities(negative_prompt=False, seed=False, max_n=MAX_N, sizes=spec.sizes,
                        min_side=min(sides, default=256), max_side=max(sides, default=2048),
                        size_multiple=8 if not spec.sizes else 1, cancel=False,
                        models=tuple(dict.fromkeys((model, *models))))


def _classify(status: int, message: str, data: Any) -> ProviderError | None:
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if status == 400 and code in _FILTER_CODES:
        return ProviderError(f"OpenAI refused the prompt or the image: {message}", code="content_filtered")
    return None


class OpenAIImages(CallAwareProvider):
    """`POST {base_url}/images/generations` with Bearer auth; images come back as base64 (or URLs)."""

    name = "openai"
    label = "OpenAI Images"

    def __init__(self, base_url: str, api_key: str = "", model: str = "gpt-image-1", *,
                 models: tuple[str, ...] = (), quality: str = "", http: HttpOptions | None = None,
                 max_concurrency: int = 2, name: str = "openai", label: str = "OpenAI Images"):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the OpenAI Images base URL must start with http:// or https://")
        self.name, self.label, self.max_concurrency = name, label, max(1, max_concurrency)
        super().__init__()
        self.model = model
        self.quality = quality  # "" = the model's default ("auto", "standard"…)
        self.capabilities = capabilities_for(model, models)
        self.base = base_url.rstrip("/")
        self.url = self.base + "/images/generations"
        # The key goes on the API calls only, never on image downloads from another host.
        self._auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = RemoteClient(name, options=image_http_options(http, read_timeout=240.0),
                                   max_connections=self.max_concurrency, classify=_classify)

    def close(self) -> None:
        self.client.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def check(self, request: GenerationRequest) -> None:
        model = request.model or self.model
        caps = replace(capabilities_for(model), models=self.capabilities.models)  # this model's sizes, our list
        check_request(request, caps, label=f"{self.label} ({model})", max_prompt_chars=model_spec(model).prompt_max)

    def run(self, request: GenerationRequest, call_id: str) -> list[GeneratedImage]:
        model = request.model or self.model
        spec = model_spec(model)
        images: list[GeneratedImage] = []
        while len(images) < request.n:
            if self.cancel_requested(call_id):  # stop before paying for the calls not yet made
                raise ProviderError("canceled before every image was made", code="canceled")
            count = min(request.n - len(images), spec.per_call)
            body: dict[str, Any] = {"model": model, "prompt": request.prompt, "n": count,
                                    "size": f"{request.width}x{request.height}"}
            if spec.b64_param:
                body["response_format"] = "b64_json"
            if self.quality:
                body["quality"] = self.quality
            answer = send_submit(self.client, "POST", self.url, json=body, headers=self._auth)
            images.extend(self._images(answer, count, model))
        return images

    def _images(self, answer: Any, count: int, model: str) -> list[GeneratedImage]:
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ProviderError(f"{self.label} answered without a data list of images", code="bad_response")
        if len(data) != count:
            raise ProviderError(f"{self.label} sent {len(data)} images for {count} asked", code="bad_response")
        images = []
        for item in data:
            url = item.get("url")
            if item.get("b64_json"):
                image = decode_base64_image(item["b64_json"], source=self.label)
            elif same_origin(url, self.base):  # a compatible server serving its own files (LocalAI)
                raw, _type = self.client.send("GET", url, headers=self._auth, expect="bytes")
                image = decode_image(raw, source=self.label)
            elif isinstance(url, str) and url:
                image = fetch_image(url, client=self.client, source=self.label)  # https, public hosts only
            else:
                raise ProviderError(f"{self.label} sent an image with neither b64_json nor url", code="bad_response")
            extras: dict[str, Any] = {"model": model}
            if isinstance(item.get("revised_prompt"), str):
                extras["revised_prompt"] = item["revised_prompt"]
            images.append(as_generated(image, extras=extras))
        return images


def from_settings(settings: Settings) -> OpenAIImages:
    """The registry's builder (app/providers/registry.py), from IMAGE_OPENAI_*."""
    return OpenAIImages(settings.image_openai_base_url, settings.image_openai_api_key, settings.image_openai_model,
                        http=image_options(settings, "openai"))


def settings_connection(settings: Settings) -> tuple[str, str, str, dict[str, str]]:
    """(base URL, key, model, options) of the AI connection `make run` seeds from these settings once."""
    return settings.image_openai_base_url, settings.image_openai_api_key, settings.image_openai_model, {}

def from_connection(conn: Snapshot, model: str) -> OpenAIImages:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    return OpenAIImages(conn.base_url, conn.api_key, model or "gpt-image-1",
                        http=image_options(get_settings(), "openai"), name=conn.name, label=conn.name)
