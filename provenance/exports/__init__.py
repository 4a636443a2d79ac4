"""Exports for readers and other systems: one module per format, each reading a verified record.

Preservation formats (PREMIS, METS, Archivematica, OCFL) load a record through :mod:`provenance.exports.source`;
the readers' formats (page, TEI, Web Annotations) through :mod:`provenance.exports.verified`, which also
reads bundles. Each writes a file; none changes an archive.
"""
