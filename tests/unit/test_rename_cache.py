"""Cached descriptions from an earlier local analyzer are not reused after its rules change."""

from app.services.rename.service import RenameOptions, cache_key
from app.services.rename.vision.local import LocalAnalyzer


def test_the_local_analyzers_version_is_part_of_the_cache_key():
    options = RenameOptions()
    legacy = cache_key(sha256="a" * 64, provider="local", model="", options=options)
    current = cache_key(sha256="a" * 64, provider="local", model="", options=options,
                        version=LocalAnalyzer.version)
    assert LocalAnalyzer.version and current != legacy
    # Providers without a version keep their keys, so what was paid for stays cached.
    assert cache_key(sha256="a" * 64, provider="openai", model="m", options=options, version="") == cache_key(
        sha256="a" * 64, provider="openai", model="m", options=options)
