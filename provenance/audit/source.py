"""Where an audited archive lies: a folder, or a prefix on S3-compatible object storage (read-only).

An archive on object storage (``s3://bucket/prefix``) is read through fsspec/s3fs (the ``s3`` extra,
imported only here and only when such a URL is given). The endpoint, region and credentials come from the
usual AWS settings (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ...). Nothing is
ever written to the store. A record is read by listing its prefix once and fetching its objects
concurrently into a private temporary folder, where the one verifier checks it as it checks a folder on
disk: an object the manifest names but the store does not hold is then ``file.missing`` or
``object.missing``, a finding like any other.

Errors are named: a transient error (a timeout, a dropped connection, a 5xx, throttling) is retried with
back-off, then reported as :class:`ReadFailedError` (the record's finding ``storage.read-failed``); a bucket or
prefix that does not exist, or a store that cannot be reached at all, is one error line
(``archive.not-found``, ``storage.unavailable``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.errors import ErrorCode, NotFoundError, StorageError, UnavailableError

# attempts for one object or listing before the error is reported, and the first pause between them
ATTEMPTS = 3
BACKOFF_S = 0.2
# botocore's own attempts of one request (its back-off is jittered, up to seconds): one retry
BOTO_ATTEMPTS = 2
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
REMOTE_SCHEMES = ("s3://",)
# errors of the store (set when s3fs is loaded: botocore's and aiohttp's too); anything else is a bug
STORE_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError)


def _store_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, TimeoutError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [BotoCoreError, ClientError]
    except ImportError:  # pragma: no cover - without the s3 extra nothing here is reached
        pass
    try:
        from aiohttp import ClientError as HttpError

        errors.append(HttpError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


class ReadFailedError(Exception):
    """A record that could not be read from the store after every retry (the message names why)."""


def is_remote(location: str | Path | None) -> bool:
    return isinstance(location, str) and location.startswith(REMOTE_SCHEMES)


def _safe_rel(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(p not in ("", ".", "..") and "\\" not in p for p in parts)


@dataclass(frozen=True)
class LocalSource:
    """An archive folder on this machine (or on a path every worker shares)."""

    root: Path

    @property
    def url(self) -> str:
        return str(self.root)

    def record_ids(self) -> list[str]:
        from provenance.archive import Archive

        return Archive(self.root).record_ids()

    def read_optional(self, rel: str) -> bytes | None:
        from provenance.fsio import read_limited

        try:
            return read_limited(self.root / rel, 1 << 20)
        except OSError:
            return None


# one file system object per (url, process): s3fs runs an event loop in a thread, which a fork does not copy
_FILESYSTEMS: dict[tuple[str, str, int], Any] = {}


@dataclass(frozen=True)
class RemoteSource:
    """An archive under ``s3://bucket/prefix``: ``records/`` and ``keys/`` below the prefix."""

    url: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def base(self) -> str:
        return self.url.split("://", 1)[1].rstrip("/")

    @property
    def bucket(self) -> str:
        return self.base.split("/", 1)[0]

    def fs(self) -> Any:
        global STORE_ERRORS
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
        key = (self.url, endpoint or "", os.getpid())
        fs = _FILESYSTEMS.get(key)
        if fs is None:
            try:
                import s3fs
            except ImportError:
                raise UnavailableError(
                    ErrorCode.EXTRA_MISSING,
                    f"{self.url}: archives on object storage need s3fs: pip install 'provenance[s3]'",
                ) from None
            config = {"retries": {"max_attempts": BOTO_ATTEMPTS, "mode": "standard"},
                      "connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": READ_TIMEOUT_S}
            client = {"endpoint_url": endpoint} if endpoint else {}
            fs = s3fs.S3FileSystem(skip_instance_cache=True, config_kwargs=config, client_kwargs=client,
                                   **self.options)
            fs.retries = ATTEMPTS  # s3fs's own retries of transient errors, on top of botocore's
            _FILESYSTEMS[key] = fs
            STORE_ERRORS = _store_errors()
        return fs

    def _unavailable(self, exc: BaseException) -> StorageError:
        detail = str(exc).splitlines()[0] if str(exc) else ""
        return StorageError(
            ErrorCode.STORAGE_UNAVAILABLE,
            f"{self.url}: the object store cannot be reached ({type(exc).__name__}: {detail[:200]})",
            path=self.url,
        )

    def check(self) -> None:
        """That the bucket exists and holds an archive. Raises ``NotFoundError(archive.not-found)`` or
        ``StorageError(storage.unavailable)``."""
        fs = self.fs()
        try:
            fs.ls(self.bucket, refresh=True)
        except FileNotFoundError:
            raise NotFoundError(ErrorCode.ARCHIVE_NOT_FOUND, f"{self.url}: no bucket named {self.bucket!r}",
                                path=self.url) from None
        except PermissionError as exc:
            raise StorageError(ErrorCode.STORAGE_UNAVAILABLE, f"{self.url}: access denied to bucket "
                               f"{self.bucket!r} ({exc})", path=self.url) from None
        except STORE_ERRORS as exc:
            raise self._unavailable(exc) from None
        if not self._exists(f"{self.base}/records"):
            raise NotFoundError(ErrorCode.ARCHIVE_NOT_FOUND, f"{self.url} is not a provenance archive (no records/ "
                                "under it)", path=self.url)

    def _exists(self, path: str) -> bool:
        try:
            return bool(self.fs().exists(path))
        except STORE_ERRORS as exc:
            raise self._unavailable(exc) from None

    def record_ids(self) -> list[str]:
        """Every record id under ``records/``, sorted (one paginated listing)."""
        from provenance.archive import RECORD_ID_RE

        prefix = f"{self.base}/records"
        try:
            entries = self.fs().ls(prefix, detail=False, refresh=True)
        except FileNotFoundError:
            return []
        except STORE_ERRORS as exc:
            raise self._unavailable(exc) from None
        names = (str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries)
        return sorted(name for name in names if RECORD_ID_RE.match(name))

    def read_optional(self, rel: str) -> bytes | None:
        try:
            data = self.fs().cat_file(f"{self.base}/{rel}")
        except FileNotFoundError:
            return None
        except STORE_ERRORS as exc:
            raise self._unavailable(exc) from None
        return bytes(data)[: 1 << 20]

    def download_keys(self, dest: Path) -> Path:
        """The archive's ``keys/`` copied into ``dest`` (the default trust store of an archive on S3)."""
        dest.mkdir(parents=True, exist_ok=True)
        fs = self.fs()
        try:
            paths = [p for p in fs.find(f"{self.base}/keys") if str(p).endswith(".json")]
            blobs = fs.cat(paths) if paths else {}
        except FileNotFoundError:
            return dest
        except STORE_ERRORS as exc:
            raise self._unavailable(exc) from None
        for path, data in blobs.items():
            name = str(path).rsplit("/", 1)[-1]
            if _safe_rel(name):
                (dest / name).write_bytes(data)
        return dest

    def fetch_record(self, record_id: str, dest: Path) -> tuple[Path, list[str]]:
        """The record's objects copied into ``dest/<record_id>``; returns the folder and the keys refused as
        unsafe paths. Raises :class:`ReadFailedError` when the store keeps failing."""
        fs = self.fs()
        prefix = f"{self.base}/records/{record_id}"
        folder = dest / record_id
        folder.mkdir(parents=True)
        paths: list[str] = []
        for attempt in range(ATTEMPTS):
            try:
                paths = [str(p) for p in fs.find(prefix)]
                break
            except FileNotFoundError:
                return folder, []
            except STORE_ERRORS as exc:
                if attempt == ATTEMPTS - 1:
                    raise ReadFailedError(f"listing {prefix}: {type(exc).__name__}: {exc}") from None
                time.sleep(BACKOFF_S * 2**attempt)
        unsafe: list[str] = []
        wanted: list[tuple[str, str]] = []
        for path in paths:
            rel = path[len(prefix) + 1 :]
            if _safe_rel(rel):
                wanted.append((path, rel))
            else:
                unsafe.append(rel)
        pending = dict(wanted)
        for attempt in range(ATTEMPTS):
            try:
                got = fs.cat(list(pending), on_error="return") if pending else {}
            except STORE_ERRORS as exc:  # the whole call failed: a connection refused, a timeout
                got = dict.fromkeys(pending, exc)
            failed: dict[str, str] = {}
            for path, value in got.items():
                if isinstance(value, FileNotFoundError):
                    continue  # gone between the listing and the read: the verifier names what is missing
                if isinstance(value, BaseException):
                    failed[path] = f"{type(value).__name__}: {value}"
                    continue
                target = folder / pending[path]
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(value)
                except OSError:  # "a" and "a/b" both objects: no folder can hold both; named, not written
                    unsafe.append(pending[path])
            if not failed:
                return folder, unsafe
            if attempt == ATTEMPTS - 1:
                first = next(iter(failed.items()))
                raise ReadFailedError(f"{len(failed)} object(s) of {record_id} could not be read after {ATTEMPTS} "
                                 f"attempts ({first[0]}: {first[1][:200]})")
            pending = {p: pending[p] for p in failed}
            time.sleep(BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover


Source = LocalSource | RemoteSource


def open_source(location: str | Path | None) -> Source:
    """The archive at ``location`` (a folder, ``s3://bucket/prefix``, else ``$PROVENANCE_ARCHIVE``, else the
    current folder). Raises ``NotFoundError(archive.not-found)`` or ``StorageError(storage.unavailable)``."""
    if location is None:
        env = os.environ.get("PROVENANCE_ARCHIVE")
        location = env if env and is_remote(env) else None
    if is_remote(location):
        source = RemoteSource(str(location))
        source.check()
        return source
    from provenance.archive import Archive

    return LocalSource(Archive.locate(Path(location) if location is not None else None).root)


def remote_url(path: str | Path) -> str | None:
    """``path`` as an object-store URL when it is one (``Path`` folds ``s3://`` to ``s3:/``), else None."""
    text = str(path)
    for scheme in REMOTE_SCHEMES:
        folded = scheme[:-1]  # "s3:/"
        if text.startswith(scheme):
            return text
        if text.startswith(folded):
            return scheme + text[len(folded) :]
    return None


def fetch_for_verify(url: str, dest: Path) -> tuple[Path, Path]:
    """A record (``s3://bucket/prefix/records/<id>``) or a bundle object (``….zip``, ``….tar.gz``) copied
    into ``dest`` to be verified there, and the archive's ``keys/`` beside it (the default trust store of a
    record). Raises ``NotFoundError``, ``StorageError``."""
    from provenance.archive import RECORD_ID_RE

    trimmed = url.rstrip("/")
    head, _, name = trimmed.rpartition("/")
    keys = dest / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    if head.endswith("/records") and RECORD_ID_RE.match(name):
        source = RemoteSource(head[: -len("/records")])
        source.check()
        if not source._exists(f"{source.base}/records/{name}/manifest.json"):
            raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{url}: no such record", path=url)
        source.download_keys(keys)
        try:
            folder, _unsafe = source.fetch_record(name, dest / "records")
        except ReadFailedError as exc:
            raise StorageError(ErrorCode.STORAGE_UNAVAILABLE, f"{url}: {exc}", path=url) from None
        return folder, keys
    source = RemoteSource(trimmed)
    fs = source.fs()
    target = dest / (name or "bundle")
    try:
        target.write_bytes(fs.cat_file(source.base))
    except FileNotFoundError:
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{url}: no such object", path=url) from None
    except STORE_ERRORS as exc:
        raise source._unavailable(exc) from None
    return target, keys
