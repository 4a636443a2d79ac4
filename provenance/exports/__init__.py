"""Exports for readers and other systems: one module per format, each reading a verified record.

Every exporter takes a :class:`provenance.exports.source.VerifiedSource` (a record of an archive or a
bundle, verified at the time of the export) and writes a file; none changes an archive.
"""
