"""The rows one billing effect writes, in the caller's transaction: the effect (its unique business key is the
exactly-once guard), the account's new figures, the ledger row and, for a payment, the owner's receipt.

On SQLite these are four plain statements, each a cheap call into the same process. On PostgreSQL each
statement is a round trip to the server, so the four are one statement: data-modifying CTEs whose later parts
read the effect's RETURNING, and so write nothing when the business key already had its effect. Either way all
of it commits or rolls back with the caller's transaction.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, exists, insert, null, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import Select

from app.models import BillingEffect, CreditAccount, CreditEntry, OutboxEmail
from app.services import mail
from app.services.billing import sql

ACCOUNT, EFFECT, LEDGER, OUTBOX = (CreditAccount.__table__, BillingEffect.__table__, CreditEntry.__table__,
                                   OutboxEmail.__table__)
_ADD_TO_ACCOUNT = (update(ACCOUNT).where(ACCOUNT.c.workspace_id == bindparam("ws"))
                   .values(balance=ACCOUNT.c.balance + bindparam("applied"),
                           debt=ACCOUNT.c.debt + bindparam("shortfall")))
_LEDGER_ROW = insert(LEDGER)


def write_effect(conn: Connection, effect: dict[str, Any], ledger: dict[str, Any],
                 receipt: dict[str, Any] | None) -> tuple[int, int | None] | None:
    """Write an effect (BillingEffect's columns but its id), move the account by its applied credits and
    shortfall, write its ledger row (CreditEntry's columns) and the receipt (mail.outbox_row) when given.
    (effect id, outbox id or None); None, and nothing written, when the business key already has its effect."""
    if conn.dialect.name == "postgresql":
        params = {**_prefixed("e_", effect), **_prefixed("l_", ledger), **_prefixed("o_", receipt or {})}
        row = conn.execute(_one_statement(tuple(effect), tuple(ledger), tuple(receipt or ())), params).first()
        return None if row is None else (row[0], row[1])
    effect_id = sql.insert_new(conn, EFFECT, effect)
    if effect_id is None:
        return None
    conn.execute(_ADD_TO_ACCOUNT, {"ws": effect["workspace_id"], "applied": effect["applied_credits"],
                                   "shortfall": effect["shortfall"]})
    conn.execute(_LEDGER_ROW, ledger)
    return effect_id, conn.execute(mail.OUTBOX_INSERT, receipt).scalar_one() if receipt else None


def _prefixed(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    return {prefix + name: value for name, value in values.items()}


def _binds(table: Table, prefix: str, names: tuple[str, ...]) -> list:
    # Typed, so PostgreSQL knows each value's type inside INSERT … SELECT (a bare NULL would be text).
    return [bindparam(prefix + name, type_=table.c[name].type) for name in names]


@cache
def _one_statement(effect_names: tuple[str, ...], ledger_names: tuple[str, ...],
                   receipt_names: tuple[str, ...]) -> Select:
    """WITH effect AS (INSERT … ON CONFLICT DO NOTHING RETURNING id), account AS (UPDATE … WHERE EXISTS effect),
    ledger AS (INSERT … SELECT FROM effect)[, receipt AS (INSERT … SELECT FROM effect RETURNING id)]
    SELECT effect.id, receipt.id — no row when the effect was there before. Built once per column set."""
    values = dict(zip(effect_names, _binds(EFFECT, "e_", effect_names), strict=True))
    effect = postgresql.insert(EFFECT).values(values).on_conflict_do_nothing().returning(EFFECT.c.id).cte("effect")
    account = (update(ACCOUNT).where(ACCOUNT.c.workspace_id == values["workspace_id"], exists(select(effect.c.id)))
               .values(balance=ACCOUNT.c.balance + values["applied_credits"],
                       debt=ACCOUNT.c.debt + values["shortfall"]).cte("account"))
    ledger = insert(LEDGER).from_select(
        list(ledger_names), select(*_binds(LEDGER, "l_", ledger_names)).select_from(effect)).cte("ledger")
    receipt_id = null()
    if receipt_names:
        receipt = insert(OUTBOX).from_select(
            list(receipt_names), select(*_binds(OUTBOX, "o_", receipt_names)).select_from(effect)
        ).returning(OUTBOX.c.id).cte("receipt")
        receipt_id = select(receipt.c.id).scalar_subquery()
    return select(effect.c.id, receipt_id).add_cte(account, ledger)
