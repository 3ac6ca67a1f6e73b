"""The offline image engine: subjects, scenes, palettes, type and layouts."""
