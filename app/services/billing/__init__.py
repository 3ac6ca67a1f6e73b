"""Billing with Stripe: money reaches the credits ledger exactly once per business key (issue 21)."""
