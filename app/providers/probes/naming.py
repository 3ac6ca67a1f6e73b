"""Capabilities inferred from model names, for providers whose lists do not say (all `guessed=True`)."""

from __future__ import annotations

import re

_VISION_FAMILIES = re.compile(
    r"llava|bakllava|vision|-vl\b|-vl[-:_.]|qwen2\.5-vl|qwen2-vl|gemma3|pixtral|minicpm-v|moondream|"
    r"llama3\.2-vision|internvl|phi-3\.5-vision", re.I)
_NOT_CHAT = re.compile(r"embed|tts|whisper|transcribe|rerank|audio|realtime|search-preview", re.I)
_OPENAI_VISION = re.compile(r"^(?:gpt-4o|gpt-4\.1|gpt-5|o3|o4)", re.I)
_OPENAI_IMAGES = re.compile(r"^(?:gpt-image|dall-e)", re.I)
_CUTOUT = re.compile(r"rembg|remove-?background|background-?remov|birefnet|inspyrenet|rmbg|bria.*background", re.I)
_UPSCALE = re.compile(r"upscal|esrgan|super-?resolution|clarity", re.I)


def is_chat_model(model_id: str) -> bool:
    """False for embedding, speech and other non-chat models that list next to chat models."""
    return not _NOT_CHAT.search(model_id)


def local_chat_capabilities(model_id: str) -> tuple[str, ...]:
    """Text for any chat model, plus vision when the name is a known vision family."""
    return ("text", "vision") if _VISION_FAMILIES.search(model_id) else ("text",)


def openai_capabilities(model_id: str) -> tuple[str, ...]:
    """OpenAI's own naming: image models, moderation models, multimodal chat families, other chat."""
    if _OPENAI_IMAGES.search(model_id):
        return ("images",)
    if "moderation" in model_id.lower():
        return ("moderation",)
    if not is_chat_model(model_id):
        return ()
    return ("text", "vision") if _OPENAI_VISION.search(model_id) else ("text",)


def image_model_capabilities(model_id: str) -> tuple[str, ...]:
    """For image-model hosts (fal, Replicate, Bedrock): cutout and upscale by name, else images."""
    if _CUTOUT.search(model_id):
        return ("cutout",)
    if _UPSCALE.search(model_id):
        return ("upscale",)
    return ("images",)


def is_cutout_node(name: str) -> bool:
    """A ComfyUI node class that removes backgrounds (rembg, BiRefNet, InSPyReNet, RMBG…)."""
    return bool(re.search(r"rembg|birefnet|inspyrenet|rmbg|backgroundremov", name, re.I))
