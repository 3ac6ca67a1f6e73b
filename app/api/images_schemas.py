"""Response bodies of the image-generation routes (`app.services.generation.service` builds them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.library_schemas import AssetOut


class GenerationParameters(BaseModel):
    """Everything needed to make the same images again ("use these settings")."""
    prompt: str
    negative_prompt: str
    style: str
    size: str = Field(description='"WxH"')
    n: int
    seed: int
    provider: str
    model: str


class GeneratedImage(BaseModel):
    id: int
    generation_id: int
    seed: int
    favourite: bool
    asset: AssetOut


class GenerationOut(BaseModel):
    """A generation; `progress`, `message` and `queue_position` only while its Job row exists."""
    id: int
    status: str
    job_id: str
    parameters: GenerationParameters
    final_prompt: str
    error: str
    created_at: str
    finished_at: str | None
    images: list[GeneratedImage]
    progress: int | None = None
    message: str | None = None
    queue_position: int | None = Field(default=None, description="1-based; null unless queued on our side.")


class VariationStarted(BaseModel):
    id: int
    job_id: str
    seed: int


class Capabilities(BaseModel):
    """What a provider can do; only the controls that apply are shown."""
    negative_prompt: bool
    seed: bool
    max_n: int
    sizes: list[str]
    min_side: int
    max_side: int
    size_multiple: int
    steps: bool
    queue_position: bool
    cancel: bool
    transparency: bool
    models: list[str]
    styles_unsupported: list[str]


class ImageProviderOut(BaseModel):
    name: str
    label: str
    configured: bool
    capabilities: Capabilities
    default: bool
    price_per_image: int


class ImageProviderList(BaseModel):
    providers: list[ImageProviderOut]


class StyleOut(BaseModel):
    key: str
    name: str
    template: str
    negative: str
    position: int
    is_active: bool


class StyleList(BaseModel):
    styles: list[StyleOut]


class GalleryImage(GeneratedImage):
    parameters: GenerationParameters
    created_at: str


class GalleryPage(BaseModel):
    images: list[GalleryImage]
    total: int
    limit: int
    offset: int


class FavouriteOut(BaseModel):
    id: int
    favourite: bool
