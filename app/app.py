"""The composition root: the Reflex app, the REST API and every page with its route."""

import reflex as rx

from app import routes
from app.api import build_api
from app.api.guard import Guard
from app.api.middleware import BodyLimit, SecurityHeaders
from app.observability.logs import configure_logging
from app.threads import size_thread_pool
from components.layout.focus import focus_style
from components.layout.nav import nav_style
from components.layout.text_wrap import wrap_style
from components.library.grid import tile_style
from components.library.prefetch import thumbnail_prefetch
from components.library.search import filter_style
from components.pages import (
    admin,
    admin_ai,
    admin_billing,
    admin_generation,
    admin_workspaces,
    asset_detail,
    assets,
    auth,
    billing,
    dashboard,
    generate,
    invite,
    rename,
    reviews,
    settings,
    slides,
    template_editor,
    templates,
    workflows,
    workspace,
)
from state.admin import AdminAuditState, AdminHealthState, AdminJobsState, AdminOutboxState, AdminUsersState
from state.admin_ai import AdminAIState
from state.admin_billing import AdminBillingState
from state.admin_generation import AdminModerationState, AdminStylesState
from state.admin_workspaces import AdminWorkspacesState
from state.ai_guide import AIGuideState
from state.asset_detail import AssetDetailState
from state.billing import BillingState
from state.dashboard import DashboardState
from state.event_context import EventContext
from state.generate import GenerateState
from state.generate_styles import GenerateStylesState
from state.invite import InviteState
from state.library import LibraryState
from state.rename import RenameState
from state.reset import ResetConfirmState, ResetRequestState
from state.reviews import ReviewsState
from state.session import SessionState
from state.settings import SettingsState
from state.signin import SignInState
from state.signup import SignUpState
from state.slides import SlidesState
from state.slides_form import SlidesFormState
from state.sso_settings import SsoSettingsState
from state.template_editor import TemplateEditorState
from state.template_pictures import TemplatePicturesState
from state.templates import TemplatesState
from state.workflows import WorkflowsState
from state.workspace import WorkspaceState

app = rx.App(
    # FastAPI routes come first; the outer wrappers see every response and request.
    api_transformer=[build_api(), BodyLimit, Guard, SecurityHeaders],
    # The library tiles' stylesheet before the focus ring's, so a focused selected tile shows the ring.
    head_components=[rx.el.meta(name="color-scheme", content="light dark"), nav_style(), tile_style(),
                     filter_style(), focus_style(), wrap_style(), thumbnail_prefetch()],
)

app.register_lifespan_task(size_thread_pool)  # WEB_THREADS (app/threads.py)
configure_logging()  # LOG_FORMAT, LOG_LEVEL; request ids per HTTP request (app/api) and per page event:
app.add_middleware(EventContext(), index=0)  # before Reflex's hydrate step, which may end the chain

PAGES = [
    # Each page: route, component, title, on_load handlers.
    (routes.HOME, lambda: rx.center(rx.spinner(size="3"), height="100vh"), "Atelier",
     SessionState.load_home),
    (routes.SIGN_IN, auth.sign_in_page, "Sign in", [SessionState.load_public, SignInState.load_page]),
    (routes.SIGN_UP, auth.sign_up_page, "Create account", [SessionState.load_public, SignUpState.load_page]),
    (routes.RESET, auth.reset_request_page, "Reset password", ResetRequestState.load_page),
    (routes.RESET_CONFIRM, auth.reset_confirm_page, "Choose a new password", ResetConfirmState.load_page),
    (routes.INVITE, invite.invite_page, "Invitation", InviteState.load_page),
    (routes.DASHBOARD, dashboard.dashboard_page, "Dashboard",
     [SessionState.load_private, DashboardState.load_page]),
    # One event before the grid shows: the library's load applies the session (@signed_in) and chains the
    # menus and the upload follower after the cards (each on_load event is a round trip through the state).
    (routes.ASSETS, assets.assets_page, "Assets", LibraryState.load_page),
    (routes.ASSET_DETAIL, asset_detail.asset_detail_page, "Picture",
     [SessionState.load_private, AssetDetailState.load_page]),
    (routes.RENAME, rename.rename_page, "Bulk rename",
     [SessionState.load_private, RenameState.load_page, AIGuideState.load_page]),
    (routes.GENERATE, generate.generate_page, "Generate",
     [SessionState.load_private, GenerateState.load_page, GenerateStylesState.load_page, AIGuideState.load_page]),
    (routes.WORKFLOWS, workflows.workflows_page, "Workflows",
     [SessionState.load_private, WorkflowsState.load_page, AIGuideState.load_page]),
    (routes.SLIDES, slides.slides_page, "Slides",
     [SessionState.load_private, SlidesFormState.load_page, SlidesState.load_page, AIGuideState.load_page]),
    (routes.TEMPLATES, templates.templates_page, "Templates", [SessionState.load_private, TemplatesState.load_page]),
    (routes.TEMPLATE_EDITOR, template_editor.template_editor_page, "Template",
     [SessionState.load_private, TemplateEditorState.load_page, TemplatePicturesState.load_links]),
    (routes.REVIEWS, reviews.reviews_page, "Reviews", [SessionState.load_private, ReviewsState.load_page]),
    (routes.SETTINGS, settings.settings_page, "Settings",
     [SessionState.load_private, SettingsState.load_page, SsoSettingsState.load_page]),
    (routes.WORKSPACE, workspace.workspace_page, "Team & members",
     [SessionState.load_private, WorkspaceState.load_page]),
    (routes.BILLING, billing.billing_page, "Billing", [SessionState.load_private, BillingState.load_page]),
    (routes.ADMIN_USERS, admin.admin_users_page, "Users · Admin",
     [SessionState.load_admin, AdminUsersState.load_page]),
    (routes.ADMIN_WORKSPACES, admin_workspaces.admin_workspaces_page, "Workspaces · Admin",
     [SessionState.load_admin, AdminWorkspacesState.load_page]),
    (routes.ADMIN_BILLING, admin_billing.admin_billing_page, "Billing · Admin",
     [SessionState.load_admin, AdminBillingState.load_page]),
    (routes.ADMIN_JOBS, admin.admin_jobs_page, "Jobs · Admin", [SessionState.load_admin, AdminJobsState.load_page]),
    (routes.ADMIN_AUDIT, admin.admin_audit_page, "Audit log · Admin",
     [SessionState.load_admin, AdminAuditState.load_page]),
    (routes.ADMIN_OUTBOX, admin.admin_outbox_page, "Outbox · Admin",
     [SessionState.load_admin, AdminOutboxState.load_page]),
    (routes.ADMIN_STYLES, admin_generation.admin_styles_page, "Styles · Admin",
     [SessionState.load_admin, AdminStylesState.load_page]),
    (routes.ADMIN_MODERATION, admin_generation.admin_moderation_page, "Moderation · Admin",
     [SessionState.load_admin, AdminModerationState.load_page]),
    (routes.ADMIN_AI, admin_ai.admin_ai_page, "AI connections · Admin",
     [SessionState.load_admin, AdminAIState.load_page]),
    (routes.ADMIN_HEALTH, admin.admin_health_page, "System health · Admin",
     [SessionState.load_admin, AdminHealthState.load_page]),
]

for route, component, title, on_load in PAGES:
    app.add_page(component, route=route, title=f"{title} · Atelier" if title != "Atelier" else title,
                 on_load=on_load)
