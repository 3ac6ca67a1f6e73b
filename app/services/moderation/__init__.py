"""Moderation: the policy, the local text and image checks, the AI check."""
