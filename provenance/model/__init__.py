"""Pydantic models of every on-disk object, and the problem codes of verification.

Import the submodules directly (``provenance.model.manifest``) on hot paths; this package re-exports
nothing so that importing it stays cheap.
"""
