"""Sphinx-side support for the book: keeps the built pages self-contained (see offline.py)."""
