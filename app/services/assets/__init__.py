"""Uploaded pictures: ingest, decoding, archives, chunked uploads."""
