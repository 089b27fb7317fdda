"""Reproducible runs that make the book's checkpoints: ``python -m minigrad.recipes.NAME``."""
