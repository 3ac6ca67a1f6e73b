"""Probes for servers people run themselves: Ollama, AUTOMATIC1111 / Forge, ComfyUI."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from app.providers.probes.base import Offer, ProbeFailed, ProbeResult
from app.providers.probes.naming import is_cutout_node, local_chat_capabilities
from app.providers.probes.transport import ProbeSession

OLLAMA_MAX_SHOWN = 50  # /api/show per model; beyond this, capabilities are guessed from names
COMFYUI_MAX_BYTES = 32 * 1024 * 1024  # /object_info describes every node class: several MB with custom nodes
_OLLAMA_CAPABILITIES = {"completion": "text", "vision": "vision"}


def probe_ollama(*, base_url: str, api_key: str, options: dict[str, Any], timeout: float) -> ProbeResult:
    # People paste the OpenAI-compatible address (…/v1); the native API lives at the root.
    base = base_url.rstrip("/").removesuffix("/v1")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None  # a proxy, or ollama.com
    with ProbeSession(service="Ollama", base_url=base, timeout=timeout, looks_like="an Ollama server",
                      refused_hint="Is Ollama running (ollama serve)?", headers=headers, secrets=(api_key,),
                      verify_tls=options.get("verify_tls", True)) as session:
        data = session.call("GET", "/api/tags")
        models = data.get("models") if isinstance(data, dict) else None
        if not isinstance(models, list):
            raise session.wrong_shape("GET /api/tags", "a models list")
        names = [m.get("name") or m.get("model") for m in models if isinstance(m, dict)]
        names = [n for n in names if isinstance(n, str) and n]
        detail: dict[str, Any] = {"models": len(names)}
        try:
            version = session.call("GET", "/api/version")
            if isinstance(version, dict) and isinstance(version.get("version"), str):
                detail["version"] = version["version"][:40]
        except ProbeFailed:
            pass  # very old servers have no /api/version; the list already proved this is Ollama
        shown = names[:OLLAMA_MAX_SHOWN]
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(shown)))) as pool:
            offers = list(pool.map(lambda name: _ollama_offer(session, name), shown))
        offers += [Offer(n, local_chat_capabilities(n), guessed=True) for n in names[OLLAMA_MAX_SHOWN:]]
        return ProbeResult([o for o in offers if o is not None], session.latency_ms, detail)


def _ollama_offer(session: ProbeSession, name: str) -> Offer | None:
    try:
        shown = session.call("POST", "/api/show", json_body={"model": name})
    except ProbeFailed:
        shown = None
    reported = shown.get("capabilities") if isinstance(shown, dict) else None
    if not isinstance(reported, list):  # Ollama before 0.6 does not report capabilities
        return Offer(name, local_chat_capabilities(name), guessed=True)
    capabilities = tuple(dict.fromkeys(_OLLAMA_CAPABILITIES[c] for c in reported if c in _OLLAMA_CAPABILITIES))
    return Offer(name, capabilities) if capabilities else None  # embedding-only models offer nothing we use


def probe_a1111(*, base_url: str, api_key: str, options: dict[str, Any], timeout: float) -> ProbeResult:
    auth_text = str(options.get("auth") or "")
    auth = None
    if auth_text:
        user, sep, password = auth_text.partition(":")
        if not sep or not user:
            raise ProbeFailed("The A1111 login must be written user:password.", code="bad_config")
        auth = httpx.BasicAuth(user, password)
    secrets = (api_key, auth_text, auth_text.partition(":")[2])
    with ProbeSession(service="AUTOMATIC1111", base_url=base_url, timeout=timeout,
                      looks_like="an AUTOMATIC1111 / Forge API (is the web UI started with --api?)",
                      refused_hint="Is the web UI running, started with --api?", auth=auth, secrets=secrets,
                      credential="user name or password", verify_tls=options.get("verify_tls", True)) as session:
        models = session.call("GET", "/sdapi/v1/sd-models")
        if not isinstance(models, list):
            raise session.wrong_shape("GET /sdapi/v1/sd-models", "a list of checkpoints")
        offers = [Offer(str(m.get("title") or m.get("model_name")), ("images",), label=str(m.get("model_name") or ""))
                  for m in models if isinstance(m, dict) and (m.get("title") or m.get("model_name"))]
        upscalers = session.call("GET", "/sdapi/v1/upscalers")
        if not isinstance(upscalers, list):
            raise session.wrong_shape("GET /sdapi/v1/upscalers", "a list of upscalers")
        offers += [Offer(str(u["name"]), ("upscale",)) for u in upscalers
                   if isinstance(u, dict) and u.get("name") and u["name"] != "None"]
        rembg = _a1111_has_rembg(session)
        if rembg:
            offers.append(Offer("rembg", ("cutout",), label="rembg extension"))
        return ProbeResult(offers, session.latency_ms, {"rembg": rembg})


def _a1111_has_rembg(session: ProbeSession) -> bool:
    # The rembg extension adds POST /rembg to the same FastAPI app; its schema is the one place that says so.
    try:
        schema = session.call("GET", "/openapi.json")
    except ProbeFailed as exc:
        if exc.code in ("wrong_api", "http_error"):  # schema turned off or broken: treat as "not installed"
            return False
        raise
    paths = schema.get("paths") if isinstance(schema, dict) else None
    return isinstance(paths, dict) and "/rembg" in paths


def probe_comfyui(*, base_url: str, api_key: str, options: dict[str, Any], timeout: float) -> ProbeResult:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None  # an authenticating proxy in front
    with ProbeSession(service="ComfyUI", base_url=base_url, timeout=timeout, looks_like="a ComfyUI server",
                      refused_hint="Is ComfyUI running (and listening on this address, e.g. --listen)?",
                      headers=headers, secrets=(api_key,), max_bytes=COMFYUI_MAX_BYTES,
                      verify_tls=options.get("verify_tls", True)) as session:
        nodes = session.call("GET", "/object_info")
        if not isinstance(nodes, dict) or not nodes:
            raise session.wrong_shape("GET /object_info", "node classes")
        offers = [Offer(name, ("images",)) for name in _choices(nodes, "CheckpointLoaderSimple", "ckpt_name")]
        offers += [Offer(name, ("upscale",)) for name in _choices(nodes, "UpscaleModelLoader", "model_name")]
        offers += [Offer(name, ("cutout",), label=_display_name(nodes[name]))
                   for name in sorted(nodes) if is_cutout_node(name)]
        return ProbeResult(offers, session.latency_ms, {"nodes": len(nodes)})


def _choices(nodes: dict[str, Any], node: str, field: str) -> list[str]:
    """The file names a loader node offers: object_info[node].input.required[field][0]."""
    try:
        values = nodes[node]["input"]["required"][field][0]
    except (KeyError, IndexError, TypeError):
        return []
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def _display_name(info: Any) -> str:
    return str(info.get("display_name") or "") if isinstance(info, dict) else ""
