"""Connection probes against local servers (Ollama, A1111, ComfyUI), and every failure kind, on real fakes."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from app.providers import http as provider_http
from app.providers.probe import CAPABILITIES, DEFAULT_BASE_URLS, Offer, ProbeFailed, probe
from tests.fake_comfyui import FakeComfyUI
from tests.fake_image_providers import FakeA1111
from tests.fake_ollama import FakeOllama


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here any more
    return port


def failure(**kwargs) -> ProbeFailed:
    with pytest.raises(ProbeFailed) as caught:
        probe(**kwargs)
    return caught.value


def by_id(result) -> dict[str, Offer]:
    return {offer.id: offer for offer in result.offers}


# --- Ollama --------------------------------------------------------------------------------------------------

def test_ollama_lists_models_with_the_capabilities_it_reports(ollama: FakeOllama) -> None:
    result = probe(preset="ollama", base_url=ollama.base_url)
    offers = by_id(result)
    assert offers == {"llava:7b": Offer("llava:7b", ("text", "vision")),
                      "llama3.2:3b": Offer("llama3.2:3b", ("text",))}  # the embedding model offers nothing
    assert result.detail == {"models": 3, "version": "0.12.6"}
    assert 0 <= result.latency_ms < 2000
    shows = [r.json for r in ollama.sent("POST", "/api/show")]
    assert sorted(s["model"] for s in shows) == ["llama3.2:3b", "llava:7b", "nomic-embed-text:latest"]


def test_ollama_accepts_the_openai_compatible_address(ollama: FakeOllama) -> None:
    result = probe(preset="ollama", base_url=ollama.openai_base_url + "/")
    assert "llava:7b" in by_id(result)
    assert ollama.sent("GET", "/api/tags")


def test_ollama_before_capabilities_guesses_from_names(ollama: FakeOllama) -> None:
    ollama.reports_capabilities = False
    offers = by_id(probe(preset="ollama", base_url=ollama.base_url))
    assert offers["llava:7b"] == Offer("llava:7b", ("text", "vision"), guessed=True)
    assert offers["llama3.2:3b"] == Offer("llama3.2:3b", ("text",), guessed=True)


def test_ollama_shows_at_most_fifty_models(ollama: FakeOllama) -> None:
    ollama.models = {f"model{i}:latest": ["completion"] for i in range(55)}
    result = probe(preset="ollama", base_url=ollama.base_url)
    assert len(result.offers) == 55
    assert len(ollama.sent("POST", "/api/show")) == 50
    assert sum(o.guessed for o in result.offers) == 5


def test_ollama_on_another_server_is_wrong_api() -> None:
    with FakeComfyUI() as comfy:  # answers 404 to /api/tags
        error = failure(preset="ollama", base_url=comfy.origin)
    assert error.code == "wrong_api"
    assert error.message == "This does not look like an Ollama server: GET /api/tags answered 404."


# --- AUTOMATIC1111 and ComfyUI -----------------------------------------------------------------------------

def test_a1111_lists_checkpoints_upscalers_and_rembg() -> None:
    with FakeA1111(auth=("designer", "pa55word")) as fake:
        fake.rembg_installed = True
        result = probe(preset="a1111", base_url=fake.origin, options={"auth": "designer:pa55word"})
        offers = by_id(result)
        checkpoints = [o for o in result.offers if o.capabilities == ("images",)]
        assert [(o.id.split(" [")[0], o.label) for o in checkpoints] == [
            ("v1-5-pruned-emaonly.safetensors", "v1-5-pruned-emaonly"),
            ("sd_xl_base_1.0.safetensors", "sd_xl_base_1.0")]
        assert [o.id for o in result.offers if o.capabilities == ("upscale",)] == [
            "Lanczos", "Nearest", "R-ESRGAN 4x+", "ESRGAN_4x"]
        assert offers["rembg"].capabilities == ("cutout",)
        assert result.detail == {"rembg": True}
        fake.rembg_installed = False
        assert probe(preset="a1111", base_url=fake.origin, options={"auth": "designer:pa55word"}).detail == {
            "rembg": False}
        wrong = failure(preset="a1111", base_url=fake.origin, options={"auth": "designer:guess"})
    assert wrong.code == "unauthorized"
    assert "guess" not in str(wrong) and "guess" not in repr(wrong)


def test_comfyui_lists_checkpoints_upscalers_and_cutout_nodes() -> None:
    with FakeComfyUI() as fake:
        fake.custom_nodes = ["BiRefNet_Zho", "Image Rembg (Remove Background)", "InspyrenetRembg", "LayerMask: RMBG",
                             "KSamplerAdvanced"]
        result = probe(preset="comfyui", base_url=fake.origin)
        by_capability: dict[str, list[str]] = {}
        for offer in result.offers:
            assert not offer.guessed and set(offer.capabilities) <= set(CAPABILITIES)
            by_capability.setdefault(offer.capabilities[0], []).append(offer.id)
        assert by_capability == {
            "images": ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"],
            "upscale": ["RealESRGAN_x4plus.pth", "RealESRGAN_x2plus.pth", "4x-UltraSharp.pth"],
            "cutout": ["BiRefNet_Zho", "Image Rembg (Remove Background)", "InspyrenetRembg", "LayerMask: RMBG"]}
        assert result.detail == {"nodes": len(fake.object_info())}


# --- failures, one per kind ----------------------------------------------------------------------------------

def test_dns_failure_names_the_host() -> None:
    error = failure(preset="ollama", base_url="http://atelier-gpu.invalid:11434")
    assert error.code == "dns"
    assert "atelier-gpu.invalid" in error.message


def test_refused_says_what_to_start() -> None:
    port = closed_port()
    error = failure(preset="ollama", base_url=f"http://127.0.0.1:{port}")
    assert error.code == "refused"
    assert error.message == (f"Nothing answers at http://127.0.0.1:{port} (connection refused). "
                             "Is Ollama running (ollama serve)?")


def test_https_to_a_plain_http_server_is_tls(ollama: FakeOllama) -> None:
    error = failure(preset="ollama", base_url=ollama.base_url.replace("http://", "https://"), timeout=3)
    assert error.code == "tls"
    assert "TLS handshake" in error.message


def test_a_key_the_server_refuses_is_unauthorized() -> None:
    with FakeOllama(api_key="olk-right") as fake:
        assert failure(preset="ollama", base_url=fake.origin, api_key="olk-wrong").code == "unauthorized"
        none_given = failure(preset="ollama", base_url=fake.origin)
        assert probe(preset="ollama", base_url=fake.origin, api_key="olk-right").offers
    assert none_given.code == "unauthorized"
    assert "none were given" in none_given.message


def test_an_openai_compatible_probe_at_the_wrong_path_is_wrong_api(ollama: FakeOllama) -> None:
    error = failure(preset="openai_compatible", base_url=ollama.origin)  # /models without /v1
    assert error.code == "wrong_api"
    assert "GET /models answered 404" in error.message
    assert {o.id for o in probe(preset="openai_compatible", base_url=ollama.openai_base_url).offers} == {
        "llava:7b", "llama3.2:3b"}  # the embedding model is left out by name


@pytest.mark.parametrize(("mode", "code", "text"), [
    ("not_json", "wrong_api", "not JSON (text/html)"),
    ("malformed_body", "wrong_api", "not JSON"),
    ("wrong_shape", "wrong_api", "without a models list"),
    ("server_error", "http_error", "answered HTTP 500. Ollama said: llama runner process has terminated"),
])
def test_bad_answers(ollama: FakeOllama, mode: str, code: str, text: str) -> None:
    ollama.mode = mode
    error = failure(preset="ollama", base_url=ollama.base_url)
    assert error.code == code
    assert text in error.message


def test_a_hanging_server_times_out_in_about_the_timeout(ollama: FakeOllama) -> None:
    ollama.mode, ollama.hang_seconds = "timeout", 5
    started = time.monotonic()
    error = failure(preset="ollama", base_url=ollama.base_url, timeout=0.4)
    assert time.monotonic() - started < 1.5  # one attempt, no retries
    assert error.code == "timeout"
    assert "0.4 s" in error.message
    assert len(ollama.requests) == 1


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"preset": "ollama", "base_url": "ftp://127.0.0.1:11434"}, "http:// or https://"),
    ({"preset": "ollama", "base_url": "http://"}, "name a host"),
    ({"preset": "ollama", "base_url": "http://127.0.0.1:port"}, "not a number"),
    ({"preset": "openai", "base_url": "https://api.openai.com/v1?key=sk-in-the-url", "api_key": "sk-x"}, "query"),
    ({"preset": "openai_compatible", "base_url": ""}, "needs a base URL"),
    ({"preset": "openai", "base_url": ""}, "needs an API key"),
    ({"preset": "midjourney", "base_url": "http://x"}, "Unknown provider preset"),
    ({"preset": "a1111", "base_url": "http://127.0.0.1:7860", "options": {"auth": "nocolon"}}, "user:password"),
    ({"preset": "bedrock", "base_url": "", "options": {"region": "mars"}}, "AWS region"),
])
def test_bad_config(kwargs: dict, text: str) -> None:
    error = failure(**kwargs)
    assert error.code == "bad_config"
    assert text in error.message
    assert "sk-in-the-url" not in error.message


def test_probes_neither_retry_nor_touch_the_shared_breakers(ollama: FakeOllama) -> None:
    provider_http.reset_breakers()
    ollama.mode = "server_error"
    for _ in range(6):
        assert failure(preset="ollama", base_url=ollama.base_url).code == "http_error"
    assert len(ollama.requests) == 6
    assert not provider_http._breakers


def test_default_base_urls_cover_every_preset() -> None:
    assert DEFAULT_BASE_URLS["ollama"] == "http://127.0.0.1:11434"
    assert DEFAULT_BASE_URLS["lmstudio"] == "http://127.0.0.1:1234/v1"
    assert set(DEFAULT_BASE_URLS) == {"ollama", "lmstudio", "openai_compatible", "openai", "openrouter",
                                      "google_vision", "a1111", "comfyui", "fal", "replicate", "stability", "bedrock"}
