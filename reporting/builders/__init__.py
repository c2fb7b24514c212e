"""Renderers: each turns a `reporting.documents.Document` (or a profile) into file bytes."""
