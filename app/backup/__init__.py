"""Backup and restore of a whole install: `python -m app.backup create|restore` (README: Backup and restore)."""
