"""Connection tests per provider preset; the public entry point is `app.providers.probe`."""
