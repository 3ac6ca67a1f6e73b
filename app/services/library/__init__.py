"""The library: tags, alt text, collections, origin and lineage on assets; search; bulk actions."""
