"""Domain services: plain Python, keyword-only, no Reflex imports."""
