"""Checks and small pure helpers the remote image adapters share (downloads and submits live in
app/providers: files.py and submit.py).

- `check_request` checks a GenerationRequest against a provider's Capabilities with messages a user can act on.
- `parse_step_progress`, `nearest_aspect_ratio`: reading a tqdm progress line, choosing an aspect ratio.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from app.services.generation.base import Capabilities, GenerationRequest, ProviderError

MAX_PROMPT_CHARS = 4000
MAX_SEED = 2**32 - 1
# tqdm's default bar: "  45%|████▌     | 9/20 [00:03<00:04,  2.71it/s]"
_TQDM = re.compile(r"^\s*(?P<percent>\d{1,3})%\s*\|[^|]*\|\s*(?P<current>\d+)/(?P<total>\d+)")


def check_request(request: GenerationRequest, capabilities: Capabilities, *, label: str,
                  max_prompt_chars: int = MAX_PROMPT_CHARS, max_seed: int = MAX_SEED) -> None:
    """Raise `bad_request` with an actionable message when `request` is outside what the provider can do."""
    def refuse(message: str) -> None:
        raise ProviderError(message, code="bad_request")

    if not request.prompt or not request.prompt.strip():
        refuse("The prompt is empty: describe the image you want.")
    if len(request.prompt) > max_prompt_chars:
        refuse(f"The prompt is {len(request.prompt)} characters; {label} takes at most {max_prompt_chars}.")
    if request.negative_prompt:
        if not capabilities.negative_prompt:
            refuse(f"{label} does not take a negative prompt with this model; leave it empty.")
        if len(request.negative_prompt) > max_prompt_chars:
            refuse(f"The negative prompt is too long; {label} takes at most {max_prompt_chars} characters.")
    if not 1 <= request.n <= capabilities.max_n:
        refuse(f"{label} makes 1 to {capabilities.max_n} images per request, not {request.n}.")
    if not 0 <= request.seed <= max_seed:
        refuse(f"The seed must be between 0 and {max_seed}.")
    if capabilities.models and request.model and request.model not in capabilities.models:
        refuse(f"{label} does not offer the model {request.model!r}; choose one of: {', '.join(capabilities.models)}.")
    size = f"{request.width}x{request.height}"
    if capabilities.sizes:
        if size not in capabilities.sizes:
            refuse(f"{label} makes only these sizes: {', '.join(capabilities.sizes)} (not {size}).")
        return
    low, high, step = capabilities.min_side, capabilities.max_side, max(1, capabilities.size_multiple)
    if not (low <= request.width <= high and low <= request.height <= high):
        refuse(f"Width and height must be between {low} and {high} pixels for {label} (not {size}).")
    if request.width % step or request.height % step:
        refuse(f"Width and height must be multiples of {step} for {label} (not {size}).")


def parse_step_progress(logs: str | None) -> tuple[int, int] | None:
    """(step, steps) from the last tqdm-like progress line in `logs`, e.g. "45%|████▌ | 9/20" → (9, 20)."""
    if not logs:
        return None
    for line in reversed(re.split(r"[\r\n]+", logs[-20_000:])):  # tqdm redraws with \r; only the tail matters
        match = _TQDM.match(line)
        if match:
            current, total = int(match.group("current")), int(match.group("total"))
            if 0 < total <= 100_000 and 0 <= current <= total:
                return current, total
    return None


def nearest_aspect_ratio(width: int, height: int, choices: Iterable[str]) -> str:
    """The "W:H" choice closest to width:height (compared on a log scale, so 2:1 and 1:2 are equally far from 1:1)."""
    wanted = math.log(width / height)

    def distance(choice: str) -> float:
        w, h = (int(x) for x in choice.split(":"))
        return abs(math.log(w / h) - wanted)

    return min(choices, key=distance)
