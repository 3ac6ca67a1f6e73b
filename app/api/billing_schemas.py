"""Request and response bodies of /api/v1/billing and /api/v1/admin/billing."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.ids import DbId


class PlanOut(BaseModel):
    plan_id: int
    key: str
    name: str
    is_free: bool
    active: bool
    version_id: int
    version: int
    stripe_price_id: str
    amount_cents: int
    currency: str
    monthly_credits: int
    monthly_rename_quota: int
    member_limit: int | None
    storage_limit_mb: int | None
    created_at: datetime


class PlanHistoryOut(PlanOut):
    sort: int = 0
    versions: list[PlanOut]


class PackOut(BaseModel):
    id: int
    name: str
    credits: int
    stripe_price_id: str
    amount_cents: int
    currency: str
    active: bool


class PaymentOut(BaseModel):
    id: int
    kind: str = Field(description="pack | plan_credits | topup | refund | dispute")
    workspace_id: int
    credits: int
    applied_credits: int
    shortfall: int
    amount_cents: int
    currency: str
    stripe_object_id: str
    business_key: str
    created_at: datetime


class SubscriptionOut(BaseModel):
    id: int
    status: str
    plan_id: int
    plan_version_id: int
    current_period_end: datetime | None
    cancel_at_period_end: bool


class BillingOut(BaseModel):
    plan: PlanOut = Field(description="The plan version the workspace is on now.")
    balance: int
    held: int
    debt: int = Field(description="Credits a refund or dispute could not take back; new jobs wait until paid.")
    spent_this_month: int
    packs: list[PackOut]
    plans: list[PlanOut]
    subscription: SubscriptionOut | None
    payments: list[PaymentOut]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pack_id: DbId | None = None
    plan_id: DbId | None = None
    return_url: str | None = Field(default=None, max_length=500,
                                   description="A page of this site to come back to (default: /billing).")

    @model_validator(mode="after")
    def one_thing(self):
        if (self.pack_id is None) == (self.plan_id is None):
            raise ValueError("Send either pack_id or plan_id.")
        return self


class PortalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    return_url: str | None = Field(default=None, max_length=500)


class RedirectOut(BaseModel):
    url: str = Field(description="Stripe's hosted page: send the browser there.")


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    monthly_cap: int | None = Field(default=None, ge=0, le=100_000_000)
    member_cap: int | None = Field(default=None, ge=0, le=100_000_000)
    low_balance_thresholds: str = Field(default="", max_length=100, description="e.g. '100, 20'")
    auto_topup_pack_id: DbId | None = None
    auto_topup_below: int | None = Field(default=None, ge=0, le=100_000_000)
    auto_topup_monthly_max: int | None = Field(default=None, ge=0, le=100_000_000)
    member_caps: dict[int, int | None] | None = Field(default=None, max_length=1000,
                                                      description="user id → monthly cap (null removes it)")


class BudgetOut(BaseModel):
    monthly_cap: int | None
    member_cap: int | None
    low_balance_thresholds: str
    warned_threshold: int | None
    auto_topup_pack_id: int | None
    auto_topup_below: int | None
    auto_topup_monthly_max: int | None
    topped_up_this_month: int
    member_caps: dict[str, int | None]


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stripe_price_id: str = Field(default="", max_length=100)
    amount_cents: int = 0
    currency: str = Field(default="usd", max_length=3)
    monthly_credits: int = 0
    monthly_rename_quota: int = 0
    member_limit: int | None = None
    storage_limit_mb: int | None = None


class PlanCreate(TermsIn):
    key: str = Field(max_length=40)
    name: str = Field(max_length=80)
    sort: int = 0


class PlanVersionIn(TermsIn):
    name: str | None = Field(default=None, max_length=80)
    active: bool | None = None


class PackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=80)
    credits: int
    stripe_price_id: str = Field(max_length=100)
    amount_cents: int = 0
    currency: str = Field(default="usd", max_length=3)
    active: bool = True


class IssueOut(BaseModel):
    id: int
    kind: str
    business_key: str
    detail: str
    found_at: datetime
    resolved_at: datetime | None


class WorkspacePlanOut(BaseModel):
    workspace_id: int
    workspace: str
    plan: str
    version: int
    status: str


class AdminBillingOut(BaseModel):
    payments: list[PaymentOut]
    refunds: list[PaymentOut]
    disputes: list[PaymentOut]
    issues: list[IssueOut]
    workspaces: list[WorkspacePlanOut]


class PlanList(BaseModel):
    plans: list[PlanHistoryOut]


class PackList(BaseModel):
    packs: list[PackOut]
