"""Ingest profiles: pure functions that read catalogue metadata and editorial notes out of a transcription."""
