"""AI connections managed in the app: stored rows, their tests, per-capability defaults, and the
clients built from them."""
