"""Accounts, passwords, sessions, API tokens, sign-in and single sign-on."""
