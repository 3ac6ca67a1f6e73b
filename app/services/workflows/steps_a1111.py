"""Workflow steps on an AUTOMATIC1111 / Forge web UI started with --api.

- Upscale: `POST /sdapi/v1/extra-single-image` with `resize_mode` 0 (scale by `upscaling_resize`) and the
  upscaler named as in `GET /sdapi/v1/upscalers` ("R-ESRGAN 4x+" ships with A1111); answers `{"image": b64}`.
- Remove background: `POST /rembg` from the stable-diffusion-webui-rembg extension (not part of A1111):
  `{"input_image": b64, "model": "u2net", "return_mask": false, "alpha_matting": false, ...}` answers
  `{"image": b64}`, an RGBA PNG — when the web UI's image format is png: A1111 encodes API answers in its
  "samples" format, and JPEG/WebP drop the alpha. Without the extension the route is a 404, reported as such.

Both calls block while the GPU works (A1111 runs one job at a time), and are sent once: a timeout may mean
the work is still running, and sending it again would queue it twice.
"""

from __future__ import annotations

import base64
import io
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from app.providers.errors import ProviderError
from app.providers.files import decode_base64_image
from app.providers.http import HttpOptions, RemoteClient
from app.providers.submit import send_submit
from app.services.generation.adapters.common import image_http_options
from app.services.workflows.base import OperationFailed
from app.services.workflows.step_engines import CAPABILITIES, exact_upscale, failure

REMBG_MISSING = ("{label} has no /rembg endpoint: install the stable-diffusion-webui-rembg extension (Extensions "
                 "tab), restart the web UI with --api, or choose another engine for background removal.")


def _classify(status: int, message: str, data: Any) -> ProviderError | None:
    """A missing route as not_found; A1111's "could not find upscaler" (a 500) as the setting it is."""
    if status == 404:
        return ProviderError(f"HTTP 404 {message}".strip(), code="not_found")
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, str) and "could not find upscaler" in errors:
        return ProviderError(f"{errors} (the names are listed at /sdapi/v1/upscalers)", code="bad_request")
    return None


class A1111Steps:
    """Upscale and background removal on one A1111 / Forge server; plain values, no Settings."""

    name = "a1111"

    def __init__(self, base_url: str, *, auth: str = "", upscaler: str = "R-ESRGAN 4x+", rembg_model: str = "u2net",
                 http: HttpOptions | None = None, max_concurrency: int = 1):
        """`auth` is "user:password" for a web UI started with --api-auth ("" = none); `upscaler` an upscaler
        name as A1111 lists it ("" = no upscale step); `rembg_model` the rembg extension's model ("" = no
        background step)."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the A1111 URL must start with http:// or https://")
        if auth and ":" not in auth:
            raise ValueError("A1111 credentials must be written user:password")
        self.base = base_url.rstrip("/")
        self.label = f"AUTOMATIC1111 at {urlsplit(self.base).netloc}"
        self.upscaler, self.rembg_model = upscaler, rembg_model
        headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else None
        # The label names the breaker too: each server trips its own.
        self.client = RemoteClient(self.label, options=image_http_options(http, read_timeout=600.0), headers=headers,
                                   max_connections=max(1, max_concurrency) + 1, classify=_classify)

    def close(self) -> None:
        self.client.close()

    def supports(self, op_id: str) -> bool:
        return op_id in CAPABILITIES and bool(self.upscaler if op_id == "upscale" else self.rembg_model)

    def run(self, op_id: str, image: bytes, params: dict[str, Any]) -> bytes:
        if not self.supports(op_id):
            raise OperationFailed(f"{self.label} is not set up for the “{op_id}” step.", code="remote_not_configured")
        try:
            if op_id == "upscale":
                factor = params.get("factor", 2)
                return exact_upscale(self._upscale(image, factor), image, factor, label=self.label)
            return self._cut_out(image)
        except ProviderError as exc:
            raise failure(self.label, exc) from exc

    def _upscale(self, image: bytes, factor: float) -> bytes:
        body = {"image": base64.b64encode(image).decode(), "resize_mode": 0, "upscaling_resize": factor,
                "upscaler_1": self.upscaler, "upscaler_2": "None", "extras_upscaler_2_visibility": 0,
                "gfpgan_visibility": 0, "codeformer_visibility": 0, "show_extras_results": True}
        try:
            answer = send_submit(self.client, "POST", f"{self.base}/sdapi/v1/extra-single-image", json=body)
        except ProviderError as exc:
            if exc.code == "not_found":
                raise OperationFailed(f"{self.label} has no /sdapi/v1/extra-single-image endpoint: start the web UI "
                                      "with --api.", code="remote_not_found") from exc
            raise
        return self._image(answer, "the upscaler")

    def _cut_out(self, image: bytes) -> bytes:
        body = {"input_image": base64.b64encode(image).decode(), "model": self.rembg_model, "return_mask": False,
                "alpha_matting": False, "alpha_matting_foreground_threshold": 240,
                "alpha_matting_background_threshold": 10, "alpha_matting_erode_size": 10}
        try:
            answer = send_submit(self.client, "POST", f"{self.base}/rembg", json=body)
        except ProviderError as exc:
            if exc.code == "not_found":
                raise OperationFailed(REMBG_MISSING.format(label=self.label), code="remote_extension_missing") from exc
            raise
        result = self._image(answer, "the rembg extension")
        with Image.open(io.BytesIO(result)) as picture:
            transparent = "A" in picture.getbands() or "transparency" in picture.info
        if not transparent:  # A1111 writes API images in its own "samples" format: JPEG and WebP lose the alpha
            raise OperationFailed(f"{self.label} returned the cut-out without transparency: set the web UI's image "
                                  "file format to png (Settings → Saving images/grids → File format for images).",
                                  code="remote_bad_result")
        return result

    def _image(self, answer: Any, what: str) -> bytes:
        text = answer.get("image") if isinstance(answer, dict) else None
        if not isinstance(text, str) or not text:
            raise OperationFailed(f"{self.label} answered without an image from {what}.", code="remote_bad_result")
        if text.startswith("data:"):  # A1111 sends bare base64; some forks send a data: URI
            text = text.partition(",")[2]
        return decode_base64_image(text, source=self.label).data

    def probe(self) -> dict[str, Any]:
        """What the server offers, for a connection check: its upscaler names and whether /rembg exists."""
        try:
            upscalers = self.client.send("GET", f"{self.base}/sdapi/v1/upscalers")
            schema = self.client.send("GET", f"{self.base}/openapi.json")
        except ProviderError as exc:
            raise failure(self.label, exc) from exc
        names = [u.get("name") for u in upscalers if isinstance(u, dict)] if isinstance(upscalers, list) else []
        paths = schema.get("paths") if isinstance(schema, dict) else None
        return {"upscalers": [n for n in names if isinstance(n, str)],
                "rembg": isinstance(paths, dict) and "/rembg" in paths}
