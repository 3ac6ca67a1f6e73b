"""The permission matrix: which workspace role may do what, and which token scope each action needs.

Data, not code: the docs table (docs/permissions.md) and the route × role test are generated from
ACTIONS, and every service call, REST route and Reflex handler asks `allowed()` (through
UserPublic.can/require) rather than comparing role names itself.
"""

from __future__ import annotations

ROLES = ("owner", "admin", "editor", "approver", "viewer")
ROLE_LABELS = {
    "owner": "Owner", "admin": "Admin", "editor": "Editor", "approver": "Approver", "viewer": "Viewer",
}
ROLE_HELP = {
    "owner": "Everything, including deleting the workspace and handing it to someone else.",
    "admin": "Everything but deleting or transferring the workspace: members, invitations, settings.",
    "editor": "Uploads, renames, generates, runs workflows, makes decks; edits and deletes the team's work.",
    "approver": "Sees everything and reviews what is sent for approval; creates nothing.",
    "viewer": "Sees and downloads the team's work; changes nothing.",
}
# A removed member's row keeps this role (not a role: no access anywhere) so that single sign-on's group
# mapping cannot put them back; an invitation accepted later turns it into a role again.
REMOVED = "removed"
# Roles an owner or admin may hand out by invitation or role change (ownership moves only by transfer).
ASSIGNABLE = ("admin", "editor", "approver", "viewer")

_ALL = frozenset(ROLES)
_MAKERS = frozenset({"owner", "admin", "editor"})
_MANAGERS = frozenset({"owner", "admin"})

# action -> (roles allowed, token scope that covers it besides the broad read/write/admin).
# "read" actions are covered by the `read` scope, everything else by `write`, workspace management by `admin`.
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    # The team's work: library, renamer, generation, workflows, slides, jobs.
    "work.read": (_ALL, "read"),
    "assets.write": (_MAKERS, "assets:write"),
    "rename.write": (_MAKERS, "rename:write"),
    "generate.write": (_MAKERS, "generate:write"),
    "workflows.write": (_MAKERS, "workflows:write"),
    "slides.write": (_MAKERS, "slides:write"),
    "jobs.cancel": (_MAKERS, "write"),
    # Templates: write and send for review (makers); comment (makers and approvers); review what the approval
    # workflow sends; set the workspace's workflow. Reading templates is work.read.
    "templates.write": (_MAKERS, "templates:write"),
    "templates.comment": (_MAKERS | {"approver"}, "write"),
    "approvals.review": (frozenset({"owner", "admin", "approver"}), "write"),
    "approvals.manage": (_MANAGERS, "admin"),
    # The workspace itself.
    "members.read": (_ALL, "read"),
    "members.manage": (_MANAGERS, "admin"),
    "workspace.manage": (_MANAGERS, "admin"),
    "workspace.transfer": (frozenset({"owner"}), "admin"),
    "workspace.delete": (frozenset({"owner"}), "admin"),
    "credits.read": (_ALL, "read"),
    # Billing (when Stripe is on): buying packs, subscribing, the customer portal, payment history.
    "billing.manage": (_MANAGERS, "admin"),
    # Monthly credit caps for the workspace and its members, low-balance warnings, automatic top-up.
    "budgets.manage": (frozenset({"owner"}), "admin"),
    # The caller's own account and API tokens: any role; a scoped token needs `admin` to mint or revoke tokens
    # (so a narrow token can never make itself a broader one) or to change the password.
    "account.read": (_ALL, "read"),
    "account.manage": (_ALL, "admin"),
}

# Scopes a token may carry. A token without scopes (from before scopes) is a full-access personal token.
SCOPES = ("read", "write", "admin") + tuple(sorted({scope for _, scope in ACTIONS.values()
                                                     if ":" in scope}))
_BROAD = {"read": 0, "write": 1, "admin": 2}


def allowed(role: str, action: str) -> bool:
    roles, _ = ACTIONS[action]  # an unknown action is a programming error: KeyError, never "allowed"
    return role in roles


def scope_for(action: str) -> str:
    return ACTIONS[action][1]


def scope_allows(scopes: tuple[str, ...] | None, action: str) -> bool:
    """Whether a token's scopes cover `action`. None means no scopes were set: full access."""
    if scopes is None:
        return True
    needed = scope_for(action)
    if needed in scopes:
        return True
    if needed in _BROAD:
        # admin covers write covers read.
        return any(_BROAD.get(s, -1) >= _BROAD[needed] for s in scopes)
    # A product scope ("rename:write") is covered by the broad write scope too.
    return "write" in scopes or "admin" in scopes


def clean_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    from app.errors import ValidationFailed

    out = []
    for scope in scopes:
        scope = str(scope).strip().lower()
        if scope not in SCOPES:
            raise ValidationFailed(f"Unknown scope {scope[:40]!r}; known scopes: {', '.join(SCOPES)}.",
                                   code="invalid_scope")
        if scope not in out:
            out.append(scope)
    if not out:
        raise ValidationFailed("Give a token at least one scope (for example 'read').", code="invalid_scope")
    return tuple(out)


def matrix_rows() -> list[tuple[str, str, list[bool]]]:
    """(action, scope, allowed per role in ROLES order): the docs table and the settings page read this."""
    return [(action, scope, [role in roles for role in ROLES]) for action, (roles, scope) in ACTIONS.items()]


ACTION_HELP = {
    "work.read": "See, search and download the workspace's work (library, batches, gallery, runs, decks, jobs)",
    "assets.write": "Upload, edit, tag, collect and delete pictures in the library",
    "rename.write": "Start, review, apply and undo rename batches",
    "generate.write": "Generate images, make variations, favorite and delete them",
    "workflows.write": "Run workflows, save and edit recipes",
    "slides.write": "Make, edit, generate and delete decks",
    "jobs.cancel": "Cancel a running job",
    "templates.write": "Make, edit, duplicate, archive and test-send templates; send a version for review",
    "templates.comment": "Comment on a template version and mention people",
    "approvals.review": "Approve or reject what the approval workflow sends",
    "approvals.manage": "Set the workspace's approval stages and who reviews each",
    "members.read": "See the members of the workspace",
    "members.manage": "Invite, remove and change the role of members",
    "workspace.manage": "Rename the workspace and change its settings",
    "workspace.transfer": "Hand the workspace to another member",
    "workspace.delete": "Delete the workspace with its files",
    "credits.read": "See the workspace's credits",
    "billing.manage": "Buy credit packs, change the plan, open Stripe's customer portal, see payments",
    "budgets.manage": "Set monthly credit caps for the workspace and its members, warnings and top-up",
    "account.read": "See one's own account and API tokens",
    "account.manage": "Change one's password; make and revoke API tokens",
}


def markdown() -> str:
    """docs/permissions.md, from ACTIONS (a test keeps the file equal to this)."""
    head = "| action | what it covers | token scope | " + " | ".join(ROLE_LABELS[r] for r in ROLES) + " |"
    lines = [
        "# Permissions", "",
        "Generated from `app/services/workspaces/permissions.py` by "
        "`python -m app.services.workspaces.permissions > docs/permissions.md`; a test keeps it current.", "",
        "## Roles in a workspace", "",
        *[f"- **{ROLE_LABELS[r]}**: {ROLE_HELP[r]}" for r in ROLES], "",
        "## The matrix", "",
        "Every REST route declares one action (`dependencies=[requires(\"…\")]`) and every page handler that "
        "changes work checks one. Outside the workspace everything answers 404; inside it, what the role does "
        "not allow answers 403 `role_forbidden`. The site admin pages and `/api/v1/admin` follow the site role "
        "(admin), not these.", "",
        head, "|" + "---|" * (3 + len(ROLES)),
    ]
    for action, scope, cells in matrix_rows():
        marks = " | ".join("✓" if ok else "—" for ok in cells)
        lines.append(f"| `{action}` | {ACTION_HELP.get(action, '')} | `{scope}` | {marks} |")
    lines += [
        "", "## Which workspace a request acts in", "",
        "A browser session acts in the workspace chosen in the switcher. Any signed-in request may name another "
        "of the user's workspaces with the header `X-Workspace: <id>` (that request only; not a member: 404). "
        "A token acts in the workspace it was made for; a header naming another answers 403 "
        "`token_workspace_mismatch`.",
        "", "## API token scopes", "",
        "A token acts in one workspace (its `workspace_id`; none: the owner's personal one) with the owner's role "
        "there, and only within its scopes: a request outside them answers 403 `insufficient_scope`. "
        "Tokens made without scopes (all tokens from before scopes) have full access. A token may expire "
        "(`expires_at`, at most a year ahead, or `expires_in_days`); an expired one answers 401 `token_expired`.", "",
        "| scope | covers |", "|---|---|",
        "| `read` | every action whose scope is `read` |",
        "| `write` | `read`, and every write: the product scopes below and the actions whose scope is `write` |",
        "| `admin` | `write`, and managing the workspace, its members and one's API tokens |",
    ]
    for scope in SCOPES:
        if ":" in scope:
            actions = ", ".join(f"`{a}`" for a, (_, s) in ACTIONS.items() if s == scope)
            lines.append(f"| `{scope}` | {actions} only (add `read` to see the work too) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(markdown())
