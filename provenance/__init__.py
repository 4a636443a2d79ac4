"""provenance: signed, hash-chained provenance records for historical transcriptions.

The library core is usable without the CLI: :mod:`provenance.archive` (layout, atomic commits),
:mod:`provenance.ingest` (registering a transcription), :mod:`provenance.history` (signed events),
:mod:`provenance.verify` (every check, as a report of coded problems) and :mod:`provenance.keys`.
"""

__version__ = "0.1.0"
