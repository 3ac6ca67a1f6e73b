"""Vision providers for the renamer: one interface, a local analyzer and remote APIs."""
