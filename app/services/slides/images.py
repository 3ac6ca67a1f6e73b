"""Pictures for slides, made through the image providers and kept in the owner's asset library.

The prompt is moderated first (logged either way), the request is sized to the slide's picture box
(in the provider's own sizes when it has fixed ones), followed until it ends, and the image is stored
as an asset whose metadata says which deck and slide it was made for.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

from unidecode import unidecode

from app.services.assets import service as assets
from app.services.generation import registry
from app.services.generation.base import Capabilities, GenerationRequest, ImageProvider, ProviderError
from app.services.moderation import policy as content_policy
from app.services.slides.engine.brand_kit import BrandKit
from app.services.slides.engine.layout import theme_design
from app.services.slides.engine.model import Slide
from app.services.slides.engine.slideplan import plan_slide
from app.services.slides.engine.themes import Theme
from app.settings import get_settings

LONG_SIDE = 1024
POLL_MAX_SECONDS = 1.0


def picture_aspect(slide: Slide, design: Theme | BrandKit) -> float:
    """Width ÷ height of the slide's picture box in this design (16:9 when it has none)."""
    plan = plan_slide(slide=slide, design=theme_design(design) if isinstance(design, Theme) else design.design)
    if plan.picture is None or not plan.picture.box.h:
        return 16 / 9
    return plan.picture.box.w / plan.picture.box.h


def request_size(caps: Capabilities, aspect: float) -> tuple[int, int]:
    """A size the provider makes whose shape is closest to `aspect`."""
    if caps.sizes:
        def distance(size: str) -> float:
            w, h = (int(v) for v in size.split("x"))
            return abs(w / h - aspect)

        width, height = (int(v) for v in min(caps.sizes, key=distance).split("x"))
        return width, height
    step = max(1, caps.size_multiple)
    long_side = min(max(LONG_SIDE, caps.min_side), caps.max_side)
    width, height = (long_side, long_side / aspect) if aspect >= 1 else (long_side * aspect, long_side)

    def fit(value: float) -> int:
        return int(min(max(round(value / step) * step, caps.min_side), caps.max_side))

    return fit(width), fit(height)


def make_picture(*, workspace_id: int, deck_id: int, slide: Slide, design: Theme | BrandKit, provider_name: str,
                 should_stop: Callable[[], bool]) -> int:
    """Generate the slide's picture from its prompt and store it; returns the asset id.

    Raises ModerationRejected (the prompt was refused), ProviderError (the provider failed or timed out)
    or InterruptedError when `should_stop()` turns true while waiting (the provider is asked to cancel).
    """
    prompt = slide.image.prompt.strip() if slide.image else ""
    if not prompt:
        raise ValueError("this slide has no picture prompt")
    content_policy.enforce_prompt(workspace_id=workspace_id, text=prompt)
    provider = registry.get_provider(provider_name)
    caps = provider.capabilities
    width, height = request_size(caps, picture_aspect(slide, design))
    # The same deck, slide and prompt give the same picture on providers that honour seeds.
    seed = int.from_bytes(hashlib.sha256(f"{deck_id}:{slide.id}:{prompt}".encode()).digest()[:4], "big")
    handle = provider.submit(GenerationRequest(prompt=prompt, width=width, height=height, n=1, seed=seed,
                                               model=caps.models[0] if caps.models else ""))
    _follow(provider, handle, should_stop)
    images = provider.result(handle)
    if not images:
        raise ProviderError(f"{provider.label} finished without any image", code="bad_response")
    image = images[0]
    words = re.sub(r"[^a-z0-9]+", "-", unidecode(slide.title or prompt).lower()).strip("-")[:50] or "slide"
    asset = assets.store_made(workspace_id=workspace_id, filename=f"slide-{words}", data=image.data,
                              meta={"slides": {"deck_id": deck_id, "slide_id": slide.id, "prompt": prompt,
                                               "provider": provider_name, "seed": seed}}, origin="slide")
    return asset.id


def _follow(provider: ImageProvider, handle: dict, should_stop: Callable[[], bool]) -> None:
    deadline = time.monotonic() + get_settings().image_job_deadline_seconds
    wait = 0.05
    while True:
        if should_stop():
            _cancel(provider, handle)
            raise InterruptedError("canceled")
        if time.monotonic() > deadline:
            _cancel(provider, handle)
            raise ProviderError(f"{provider.label} did not finish within the time limit", code="timeout")
        status = provider.status(handle)
        if status.state == "succeeded":
            return
        if status.state in ("failed", "canceled"):
            raise ProviderError(status.message or f"{provider.label} {status.state}",
                                code=status.error_code or status.state)
        waiter = getattr(provider, "wait", None)
        if callable(waiter):
            waiter(handle, POLL_MAX_SECONDS)
        else:
            time.sleep(wait)
            wait = min(POLL_MAX_SECONDS, wait * 1.5)


def _cancel(provider: ImageProvider, handle: dict) -> None:
    try:
        provider.cancel(handle)
    except ProviderError:
        pass  # it may have finished already; the picture is not used either way
