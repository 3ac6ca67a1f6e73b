"""Probes for hosted APIs with a key: Google Cloud Vision, fal.ai, Replicate, Stability AI."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from app.providers.probes.base import CAPABILITIES, Offer, ProbeFailed, ProbeResult
from app.providers.probes.naming import image_model_capabilities
from app.providers.probes.transport import ProbeSession

# A 1x1 PNG: the smallest picture Cloud Vision accepts, so the test costs one unit.
TINY_PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAAB"
                            "JRU5ErkJggg==")
_MODEL_SLUG = re.compile(r"^[\w.-]+/[\w.-]+$")
_FAL_ID = re.compile(r"^[\w.-]+(?:/[\w.-]+)+$")
STABILITY_OFFERS = (Offer("core", ("images",), label="Stable Image Core"),
                    Offer("ultra", ("images",), label="Stable Image Ultra"),
                    Offer("sd3", ("images",), label="Stable Diffusion 3.5"),
                    Offer("fast", ("upscale",), label="Fast Upscaler"),
                    Offer("remove-background", ("cutout",), label="Remove Background"))


def _models_option(options: dict[str, Any], default: str, pattern: re.Pattern[str], service: str) -> list[str]:
    models = options.get("models") or [default]
    if isinstance(models, str) or not isinstance(models, list):
        raise ProbeFailed(f"options.models for {service} must be a list of model ids.", code="bad_config")
    for model in models:
        if not isinstance(model, str) or not pattern.match(model):
            raise ProbeFailed(f"{model!r} is not a {service} model id like {default!r}.", code="bad_config")
    return list(dict.fromkeys(models))


def _capabilities_option(options: dict[str, Any], model: str) -> tuple[str, ...] | None:
    mapping = options.get("capabilities") or {}
    wanted = mapping.get(model) if isinstance(mapping, dict) else None
    if wanted is None:
        return None
    if isinstance(wanted, str) or not isinstance(wanted, list) or not set(wanted) <= set(CAPABILITIES):
        raise ProbeFailed(f"options.capabilities[{model!r}] must be a list drawn from {', '.join(CAPABILITIES)}.",
                          code="bad_config")
    return tuple(wanted)


def probe_google_vision(*, base_url: str, api_key: str, options: dict[str, Any], timeout: float) -> ProbeResult:
    # Cloud Vision has no list endpoint: the cheapest proof that the key works is one label on a 1-pixel image.
    body = {"requests": [{"image": {"content": base64.b64encode(TINY_PNG).decode()},
                          "features": [{"type": "LABEL_DETECTION", "maxResults": 1}]}]}
    with ProbeSession(service="Google", base_url=base_url, timeout=timeout, looks_like="the Cloud Vision API",
                      secrets=(api_key,), verify_tls=options.get("verify_tls", True)) as session:
        try:
            data = session.call("POST", "/v1/images:annotate", json_body=body, params={"key": api_key})
        except ProbeFailed as exc:
            if exc.code == "http_error" and "API key not valid" in exc.message:
                raise session.fail("The key was refused: Google says the API key is not valid.",
                                   "unauthorized") from None
            raise
        responses = data.get("responses") if isinstance(data, dict) else None
        if not isinstance(responses, list) or not responses or not isinstance(responses[0], dict):
            raise session.wrong_shape("POST /v1/images:annotate", "a responses list")
        error = responses[0].get("error")
        if error:
            said = error.get("message") if isinstance(error, dict) else error
            raise session.fail(f"Cloud Vision refused the test image: {str(said)[:200]}", "unauthorized")
        return ProbeResult([Offer("cloud-vision", ("vision",), label="Cloud Vision")], session.latency_ms, {})


def _fal_app(model: str) -> str:
    """fal's queue addresses requests by app id: owner/app, or three parts for workflows and comfy apps."""
    parts = model.split("/")
    return "/".join(parts[: 3 if parts[0] in ("workflows", "comfy") else 2])


def _fal_capabilities(category: str, model: str) -> tuple[tuple[str, ...], bool]:
    category = category.lower()
    if "upscal" in category or "super-resolution" in category:
        return ("upscale",), False
    if "background" in category or "segment" in category:
        return ("cutout",), False
    if category.endswith("-to-image"):
        return image_model_capabilities(model), image_model_capabilities(model) != ("images",)
    if category in ("vision", "image-to-text"):
        return ("vision",), False
    if category in ("llm", "text-to-text"):
        return ("text",), False
    return image_model_capabilities(model), True


def probe_fal(*, base_url: str, api_key: str, options: dict[str, Any], timeout: float) -> ProbeResult:
    """Two calls, because neither proves both things.

    1. The platform API's model search (`GET https://api.fal.ai/v1/models?endpoint_id=…`, documented with
       `Authorization: Key …`) says whether each model exists and its category, but its authentication is
       optional, so a wrong key could pass unnoticed.
    2. The queue's status endpoint for a made-up request id (`GET {queue}/{app}/requests/{uuid}/status`)
       needs a valid key: 401/403 means the key is bad, 404 (request not found) means the key was accepted.
    """
    models = _models_option(options, "fal-ai/flux/dev", _FAL_ID, "fal")
    host = urlsplit(base_url).hostname or ""
    platform = str(options.get("platform_url") or ("https://api.fal.ai/v1" if host.endswith("fal.run")
                                                   else base_url.rstrip("/") + "/v1"))
    with ProbeSession(service="fal", base_url=base_url, timeout=timeout, looks_like="fal's queue API",
                      headers={"Authorization": f"Key {api_key}"}, secrets=(api_key,),
                      verify_tls=options.get("verify_tls", True)) as session:
        try:
            session.call("GET", f"/{_fal_app(models[0])}/requests/{uuid.uuid4()}/status",
                         what="GET /{app}/requests/{id}/status", not_found="expected")
        except ProbeFailed as exc:
            if exc.code != "not_found":
                raise
        params = [("endpoint_id", m) for m in models]
        found = session.call("GET", platform.rstrip("/") + "/models", params=params,
                             what="GET /v1/models (fal platform API)")
        entries = found.get("models") if isinstance(found, dict) else None
        if not isinstance(entries, list):
            raise session.wrong_shape("GET /v1/models", "a models list")
        by_id = {e["endpoint_id"]: e for e in entries if isinstance(e, dict) and isinstance(e.get("endpoint_id"), str)}
        offers = []
        for model in models:
            entry = by_id.get(model)
            if entry is None:
                raise session.fail(f"fal has no model {model!r}. Check the endpoint id on fal.ai/models.",
                                   "not_found")
            metadata = entry.get("metadata") if isinstance(entry.get("metadata"), dict) else {}
            chosen = _capabilities_option(options, model)
            capabilities, guessed = (chosen, False) if chosen else _fal_capabilities(
                str(metadata.get("category") or ""), model)
            offers.append(Offer(model, capabilities, guessed=guessed, label=str(metadata.get("display_name") or "")))
        return ProbeResult(offers, session.latency_ms, {})


def probe_replicate(*, base_url: str, api_key: str, options: dict[str, Any], timeout: float) -> ProbeResult:
    models = _models_option(options, "black-forest-labs/flux-schnell", _MODEL_SLUG, "Replicate")
    with ProbeSession(service="Replicate", base_url=base_url, timeout=timeout, looks_like="the Replicate API",
                      headers={"Authorization": f"Bearer {api_key}"}, secrets=(api_key,), credential="API token",
                      verify_tls=options.get("verify_tls", True)) as session:
        offers = []
        for model in models:
            data = session.call("GET", f"/v1/models/{model}", what=f"GET /v1/models/{model}",
                                not_found=f"Replicate has no model {model!r} (404), or this token cannot see it. "
                                          "Check the owner/name on replicate.com.")
            if not isinstance(data, dict) or "name" not in data:
                raise session.wrong_shape(f"GET /v1/models/{model}", "a model")
            offers.append(Offer(model, _capabilities_option(options, model) or ("images",),
                                label=str(data.get("description") or "")[:120]))
        return ProbeResult(offers, session.latency_ms, {})


def probe_stability(*, base_url: str, api_key: str, options: dict[str, Any], timeout: float) -> ProbeResult:
    with ProbeSession(service="Stability", base_url=base_url, timeout=timeout, looks_like="the Stability AI API",
                      headers={"Authorization": f"Bearer {api_key}"}, secrets=(api_key,),
                      verify_tls=options.get("verify_tls", True)) as session:
        account = session.call("GET", "/v1/user/account")  # documented v1 endpoint: cheap, needs a valid key
        if not isinstance(account, dict) or "id" not in account:
            raise session.wrong_shape("GET /v1/user/account", "an account")
        return ProbeResult(list(STABILITY_OFFERS), session.latency_ms, {})
