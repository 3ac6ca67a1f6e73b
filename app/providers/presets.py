"""The AI connection presets: what an admin can connect, the fields each needs, what it can do.

One row a provider. Adding one: a row here, a probe (app/providers/probe.py), and its builder in
app/services/ai/builders.py for each capability it serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CAPABILITIES = ("vision", "text", "images", "cutout", "upscale", "moderation")

CAPABILITY_LABELS = {
    "vision": "Vision (renamer: names and alt text)",
    "text": "Text (slide decks)",
    "images": "Images (generation, slide pictures)",
    "cutout": "Cut-out (workflows: remove background)",
    "upscale": "Upscale (workflows)",
    "moderation": "Moderation (prompts and outputs)",
}


@dataclass(frozen=True)
class OptionField:
    key: str
    label: str
    help: str = ""
    required: bool = False


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    capabilities: tuple[str, ...]
    base_url: str = ""  # the usual address; "" when there is none (Bedrock) or it must be given
    needs_url: bool = True
    key: str = "none"  # "required" | "optional" | "none"
    key_label: str = "API key"
    fields: tuple[OptionField, ...] = field(default_factory=tuple)
    help: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "capabilities": list(self.capabilities),
                "base_url": self.base_url, "needs_url": self.needs_url, "key": self.key,
                "key_label": self.key_label, "help": self.help,
                "fields": [{"key": f.key, "label": f.label, "help": f.help, "required": f.required}
                           for f in self.fields]}


_MODELS = OptionField("models", "Image models", "Comma-separated model ids to look up and offer, e.g. fal-ai/flux/dev.")
_STEP_MODELS = (OptionField("upscale_model", "Upscale model", "For the workflows' Upscale step, e.g. fal-ai/esrgan."),
                OptionField("cutout_model", "Background-removal model", "For the workflows' Remove background "
                            "step, e.g. fal-ai/imageutils/rembg."))

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("ollama", "Ollama", ("vision", "text"), "http://127.0.0.1:11434",
           help="Runs models on this machine or your network. The test lists its models and which ones see images."),
    Preset("lmstudio", "LM Studio", ("vision", "text"), "http://127.0.0.1:1234/v1", key="optional",
           help="LM Studio's local server (Developer → Start server)."),
    Preset("openai_compatible", "vLLM / any OpenAI-compatible server", ("vision", "text", "moderation"), key="optional",
           help="Any server with /v1/models and /v1/chat/completions (vLLM, llama.cpp, LocalAI, TGI…)."),
    Preset("openai", "OpenAI", ("vision", "text", "images", "moderation"), "https://api.openai.com/v1",
           key="required"),
    Preset("openrouter", "OpenRouter", ("vision", "text"), "https://openrouter.ai/api/v1", key="required"),
    Preset("google_vision", "Google Cloud Vision", ("vision",), "https://vision.googleapis.com", key="required",
           help="Labels, landmarks and text; the test sends one tiny image (one billed unit)."),
    Preset("a1111", "AUTOMATIC1111 / Forge", ("images", "upscale", "cutout"), "http://127.0.0.1:7860",
           key="optional", key_label="Login (user:password)",
           help="Start the web UI with --api. Cut-out needs the stable-diffusion-webui-rembg extension."),
    Preset("comfyui", "ComfyUI", ("images", "upscale", "cutout"), "http://127.0.0.1:8188",
           fields=(OptionField("workflow", "Text-to-image workflow file", "Path on the server to a "
                               "{\"workflow\", \"params\"} JSON file; empty: the bundled SDXL one."),
                   OptionField("upscale_workflow", "Upscale workflow file", "Empty: the bundled one "
                               "(UpscaleModelLoader)."),
                   OptionField("background_workflow", "Background-removal workflow file", "Empty: the "
                               "bundled one (needs a rembg custom node).")),
           help="The test reads /object_info: checkpoints, upscale models and background-removal nodes."),
    Preset("fal", "fal.ai", ("images", "upscale", "cutout"), "https://queue.fal.run", key="required",
           fields=(_MODELS, *_STEP_MODELS)),
    Preset("replicate", "Replicate", ("images", "upscale", "cutout"), "https://api.replicate.com",
           key="required", key_label="API token", fields=(_MODELS, *_STEP_MODELS)),
    Preset("stability", "Stability AI", ("images",), "https://api.stability.ai", key="required"),
    Preset("bedrock", "AWS Bedrock", ("images",), needs_url=False,
           fields=(OptionField("region", "Region", "e.g. us-east-1; credentials come from the server's AWS "
                               "chain (environment, profile or instance role).", required=True),
                   OptionField("endpoint_url", "Endpoint URL", "Only for a private endpoint.")),
           help="Titan and Stability image models on Bedrock."),
)}

# An OpenAI-compatible chat API root for presets that speak it (Ollama's lives under /v1).
CHAT_PRESETS = ("ollama", "lmstudio", "openai_compatible", "openai", "openrouter")


def chat_base(preset: str, base_url: str) -> str:
    base = base_url.rstrip("/")
    if preset == "ollama" and not base.endswith("/v1"):
        return base + "/v1"
    return base


def probe_arguments(preset: str, api_key: str, options: dict[str, str]) -> tuple[str, dict]:
    """(api_key, options) as app.providers.probe takes them, from a stored connection's string fields."""
    found: dict = {k: v for k, v in options.items() if k not in ("models", "upscale_model", "cutout_model")}
    if preset == "a1111" and api_key:
        return "", {**found, "auth": api_key}  # A1111's "key" is its --api-auth login
    if preset in ("fal", "replicate"):
        images = [m.strip() for m in options.get("models", "").split(",") if m.strip()]
        steps = {options[k]: [cap] for k, cap in (("upscale_model", "upscale"), ("cutout_model", "cutout"))
                 if options.get(k)}
        models = list(dict.fromkeys([*images, *steps]))
        if models:
            found["models"] = models
            found["capabilities"] = {m: ["images"] for m in images} | steps
    return api_key, found
