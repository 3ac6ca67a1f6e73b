"""Every page path in one place, with the few URL builders the UI needs."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode, urlsplit

HOME = "/"
SIGN_IN = "/signin"
SIGN_UP = "/signup"
RESET = "/reset"
RESET_CONFIRM = "/reset/confirm"
# Where an invitation link lands (?token=...): shows the invitation, then accept or sign up.
INVITE = "/invite"
DASHBOARD = "/dashboard"
SETTINGS = "/settings"
ASSETS = "/assets"
# One picture's page; the segment name is also a var Reflex adds to the root state.
ASSET_DETAIL = "/assets/[asset_ref]"
RENAME = "/rename"
GENERATE = "/generate"
WORKFLOWS = "/workflows"
SLIDES = "/slides"
# The template library and one template's editor (the segment name is also a root-state var).
TEMPLATES = "/templates"
TEMPLATE_EDITOR = "/templates/[template_ref]"
# The team page of the workspace this session acts in: members, roles, invitations.
WORKSPACE = "/workspace"
BILLING = "/billing"
ADMIN_JOBS = "/admin/jobs"
ADMIN_AUDIT = "/admin/audit"
ADMIN_USERS = "/admin/users"
ADMIN_OUTBOX = "/admin/outbox"
ADMIN_HEALTH = "/admin/health"
ADMIN_AI = "/admin/ai"
ADMIN_STYLES = "/admin/styles"
ADMIN_MODERATION = "/admin/moderation"
ADMIN_WORKSPACES = "/admin/workspaces"
ADMIN_BILLING = "/admin/billing"
ADMIN_AI = "/admin/ai"
API_DOCS = "/docs"

# HTTP routes the browser must load as full pages (they set or clear the cookie).
COMPLETE_SIGN_IN = "/api/v1/auth/complete"
SIGNED_OUT = "/api/v1/auth/signed-out"

PUBLIC_PAGES = {SIGN_IN, SIGN_UP, RESET, RESET_CONFIRM}


def sign_in_url(next_path: str = "") -> str:
    if next_path and next_path not in PUBLIC_PAGES and next_path != HOME:
        return f"{SIGN_IN}?next={quote(next_path, safe='/')}"
    return SIGN_IN


def sign_up_url(next_path: str = "") -> str:
    return f"{SIGN_UP}?next={quote(next_path, safe='/')}" if next_path else SIGN_UP


def invite_token_in(path: str) -> str:
    """The invitation token in a ?next= path that points at the invitation page, else ""."""
    parts = urlsplit(path or "")
    if parts.path.rstrip("/") != INVITE:
        return ""
    return (parse_qs(parts.query).get("token") or [""])[0][:300]


def invite_joined_url(workspace_id: int) -> str:
    """The invitation page once the account joined while signing up: it switches there, then the dashboard."""
    return f"{INVITE}?joined={int(workspace_id)}"


def after_switch(path: str) -> str:
    """Where a workspace switch reloads: the same page, but a list instead of one item of the old workspace."""
    path = path.rstrip("/") or HOME
    if path.startswith(ASSETS + "/"):
        return ASSETS
    if path.startswith(TEMPLATES + "/"):
        return TEMPLATES
    if path == INVITE:
        return DASHBOARD
    return path


def invite_url(token: str) -> str:
    """The accept page of an invitation (relative; emails put the public URL in front)."""
    return f"{INVITE}?token={quote(token)}"


def complete_sign_in_url(ticket: str) -> str:
    return f"{COMPLETE_SIGN_IN}?ticket={quote(ticket)}"


def sso_start_url(provider: str, next_path: str = "", link: bool = False) -> str:
    """Where a "Sign in with …" button (or Settings' "Link") sends the browser: a full page load."""
    params = {k: v for k, v in (("next", next_path), ("link", "1" if link else "")) if v}
    return f"/api/v1/auth/sso/{quote(provider)}/start" + (f"?{urlencode(params)}" if params else "")


# --- API URLs the pages link to (downloads, thumbnails). Built with "+" so that each works on a plain id
# and on a Reflex Var holding one.
API = "/api/v1"
ASSETS_API = API + "/assets"  # GET ?<the Assets page's query>&limit=N: the same search as JSON


def asset_thumbnail_url(asset_id, version=""):
    url = ASSETS_API + "/" + asset_id + "/thumbnail"
    return url + "?v=" + version if isinstance(version, str) and version else url


def asset_url(asset_id):
    """The picture's own page (works on a plain id and on a Var)."""
    return ASSETS + "/" + asset_id


def template_url(template_id):
    """A template's editor page (works on a plain id and on a Var)."""
    return TEMPLATES + "/" + template_id


def templates_search_url(params: dict[str, str]) -> str:
    """The template library showing a search and filters (empty ones left out)."""
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{TEMPLATES}?{query}" if query else TEMPLATES


def slides_deck_url(deck_id: str) -> str:
    """The Slides page with a deck open (a deck just made from a slide template)."""
    return f"{SLIDES}?deck={quote(deck_id)}"


def generate_style_url(template_id: str) -> str:
    """The Generate page with an image style template's active version in the form."""
    return f"{GENERATE}?style_template={quote(template_id)}"


def rename_batch_url(batch_id):
    """The Rename page with a batch open for review (works on a plain id and on a Var)."""
    return RENAME + "?batch=" + (quote(batch_id) if isinstance(batch_id, str) else batch_id)


def sign_in_after_reset_url() -> str:
    """The sign-in page saying the new password is set."""
    return f"{SIGN_IN}?reset=1"


def billing_return_url(newest_payment_id: int) -> str:
    """Where Stripe sends the browser back: the Billing page, with the newest payment seen before leaving."""
    return f"{BILLING}?after={int(newest_payment_id)}"


def assets_search_url(params: dict[str, str | list[str]]) -> str:
    """The Assets page showing a search (SearchQuery.to_params()): a link to share opens the same."""
    query = urlencode(params, doseq=True)
    return f"{ASSETS}?{query}" if query else ASSETS


def asset_download_url(asset_id):
    return ASSETS_API + "/" + asset_id + "/download"


PUBLIC_IMAGES = API + "/public/images"


def public_image_path(token: str) -> str:
    """A signed public picture of an email (app.services.templates.image_links), without the site's address."""
    return f"{PUBLIC_IMAGES}/{token}"


ASSETS_ZIP = ASSETS_API + "/zip"  # POST {asset_ids}: the originals in one ZIP


def image_download_url(image_id, fmt=""):
    return API + "/images/" + image_id + "/download?format=" + fmt


def deck_download_url(deck_id: str, fmt: str) -> str:
    return f"{API}/slides/{deck_id}/download?format={quote(fmt)}"


def run_download_url(run_id: str) -> str:
    return f"{API}/workflow-runs/{run_id}/download"


def batch_download_url(batch_id: str) -> str:
    return f"{API}/rename/batches/{batch_id}/download"


# --- Reviews (approvals of template versions): the inbox, and the link a notice opens.
REVIEWS = "/reviews"


def template_version_url(template_id: int, number: int) -> str:
    """The template's editor page opened at one version (notices and the inbox link here)."""
    return f"/templates/{int(template_id)}?version={int(number)}"
