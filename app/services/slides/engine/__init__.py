"""The deck engine: outline model, extraction, layout, typesetting, .pptx and previews."""
