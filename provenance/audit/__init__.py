"""Audit at scale: signed reports, sampling and schedules, a persistent audit state, and engines (a local
process pool, Dask) over archives on disk or on S3-compatible object storage (issue 16).

Nothing here is imported by the default CLI at start-up; fsspec/s3fs and dask are imported only by the
parts that use them (the ``s3`` and ``dask`` extras).
"""
