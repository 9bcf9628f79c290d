"""Drafting: offline templates, model-backed drafts and the rendered message."""
