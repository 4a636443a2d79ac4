"""Verification: every check of a record folder or a bundle, as a report of coded problems.

:func:`provenance.verify.record.verify_record_folder` checks a record folder of an archive;
:func:`provenance.verify.target.verify_path` picks the right verifier for any path.
"""
