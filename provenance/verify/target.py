"""Choosing the verifier for a path, and building the verifier's context (trust store, policy, clock)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the library is imported by the functions that use it: kind_of runs before it loads
    from provenance.model.events import EventType, Role
    from provenance.model.problems import VerificationReport
    from provenance.verify.record import VerifyContext

BUNDLE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
_PLUGINS, _NO_PLUGINS = "PYDANTIC_DISABLE_PLUGINS", "__all__"


@contextmanager
def without_pydantic_plugins() -> Iterator[None]:
    """Pydantic plugins off while the verifier builds and uses its models; the environment as it was after.

    Pydantic loads "plugins" from every installed package's entry points into each validator or
    serializer it builds, where they see (and may act on) every document validated. A verifier has no use
    for them and should not run code it did not choose on what it checks; typer turns them off for its
    own adapters in the same way. Models are built on first use (``defer_build``), some in the middle of
    a verification (the state's and the events' serializers), so the whole verification runs without
    them; this also spares each process the scan of every installed package's entry points.
    """
    previous = os.environ.get(_PLUGINS)
    os.environ[_PLUGINS] = _NO_PLUGINS
    try:
        yield
    finally:
        if previous is None:
            del os.environ[_PLUGINS]
        else:
            os.environ[_PLUGINS] = previous


def pydantic_plugins_off() -> None:
    """Pydantic plugins off for the rest of this process's life: for a process that only verifies (a
    worker of :func:`provenance.verify.batch.verify_batch`), which :func:`verify_path` then leaves as is."""
    os.environ[_PLUGINS] = _NO_PLUGINS


def _build_validators() -> None:
    """Build the validators the verifier uses first (manifest, key card) with pydantic plugins off."""
    from provenance.model.keycard import KeyCard
    from provenance.model.manifest import Manifest

    models = [model for model in (Manifest, KeyCard) if not model.__pydantic_complete__]
    if not models:
        return
    with without_pydantic_plugins():
        for model in models:
            model.model_rebuild(force=True)


def make_context(
    trust_path: Path,
    now: datetime,
    policy: dict[EventType, frozenset[Role]] | None = None,
    *,
    trust_origin: str = "option",
    policy_path: Path | None = None,
    policy_origin: str | None = None,
) -> VerifyContext:
    """The verifier's own trust store (cards in ``trust_path``), the roles policy and the clock.

    ``trust_origin``, ``policy_path`` and ``policy_origin`` say where they came from (every report names
    them); a policy given without an origin is the caller's own (``"caller"``).
    """
    from provenance.keys import TrustStore
    from provenance.model.events import DEFAULT_POLICY
    from provenance.verify.record import VerifyContext

    _build_validators()
    return VerifyContext(
        trust=TrustStore.load(trust_path, follow_folder=trust_origin != "archive"),
        policy=policy or dict(DEFAULT_POLICY),
        now=now,
        trust_origin=trust_origin,
        policy_path=str(policy_path) if policy_path is not None else None,
        policy_origin=policy_origin or ("caller" if policy else "default"),
    )


def trust_store_config(trust: Path) -> Path | None:
    """The configuration that belongs to a trust store, if any: ``provenance.toml`` inside the trust-store
    folder, else, when the trust store is the ``keys/`` folder of an archive, that archive's.

    With ``verify --trust DIR`` the roles policy comes from here or from the defaults, never from the archive
    or bundle being verified nor from the current folder.
    """
    from provenance.archive import CONFIG_NAME

    if not trust.is_dir():
        return None
    inside = trust / CONFIG_NAME
    if inside.is_file():
        return inside
    folder = trust.absolute()
    beside = folder.parent / CONFIG_NAME
    if folder.name == "keys" and (folder.parent / "records").is_dir() and beside.is_file():
        return beside
    return None


def trust_context(trust: Path, now: datetime) -> VerifyContext:
    """The context of ``verify --trust DIR``: DIR's cards, and the policy of DIR's own configuration
    (:func:`trust_store_config`) or the defaults. Raises ``InputError(archive.config-invalid)``."""
    from provenance.archive import load_config

    config_path = trust_store_config(trust)
    if config_path is None:
        return make_context(trust, now, trust_origin="option")
    return make_context(
        trust, now, load_config(config_path).policy, trust_origin="option", policy_path=config_path,
        policy_origin="trust-store",
    )


# the errors after which pathlib's exists() and is_dir() say False (any other OSError is raised)
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _mode(path: str) -> int | None:
    """``st_mode`` of ``path`` (links followed), or None where pathlib would say it does not exist; raises
    the ``OSError`` pathlib raises. One stat on the text, without a Path for each name (a verify of a
    thousand bags asks this four times a bag)."""
    try:
        return os.stat(path).st_mode
    except OSError as exc:
        if exc.errno not in _ABSENT:
            raise
        return None
    except ValueError:  # an embedded NUL: pathlib says False
        return None


def kind_of(path: Path) -> str:
    """``record``, ``bag`` or ``archive-file`` (zip/tar), or ``missing``."""
    text = os.fspath(path)
    mode = _mode(text)
    if mode is not None and stat.S_ISDIR(mode):
        if _mode(os.path.join(text, "bagit.txt")) is not None:
            looks_like_bag = True
        else:
            data = _mode(os.path.join(text, "data"))
            looks_like_bag = data is not None and stat.S_ISDIR(data)
        return "bag" if looks_like_bag and _mode(os.path.join(text, "manifest.json")) is None else "record"
    if mode is not None and stat.S_ISREG(mode) and path.name.lower().endswith(BUNDLE_SUFFIXES):
        return "archive-file"
    if mode is not None and stat.S_ISREG(mode) and path.name == "manifest.json":
        return "record"
    return "missing" if mode is None else "unknown"


def verify_path(path: Path, ctx: VerifyContext) -> VerificationReport:
    """Verify a record folder, a bag folder, or a bundle archive; never raises for what it finds."""
    if os.environ.get(_PLUGINS) == _NO_PLUGINS:  # off already (a batch's worker turns them off once)
        return _verify_path(path, ctx)
    with without_pydantic_plugins():
        return _verify_path(path, ctx)


def _verify_path(path: Path, ctx: VerifyContext) -> VerificationReport:
    from provenance.model.problems import ProblemCode as P
    from provenance.model.problems import VerificationReport
    from provenance.verify.record import name_trust, verify_record_folder

    kind = kind_of(path)
    if kind == "record" and path.is_file():
        path = path.parent
        kind = "record"
    if kind == "record":
        report = verify_record_folder(path, ctx)
    elif kind in ("bag", "archive-file"):
        from provenance.bundle.verify import verify_bundle

        report = verify_bundle(path, ctx)
    else:
        report = VerificationReport(path=str(path), kind=kind)
        if kind == "missing":
            report.add(P.PATH_NOT_FOUND, f"{path}: no such file or folder", path=str(path))
        else:
            report.add(
                P.BUNDLE_MALFORMED,
                f"{path}: not a record folder, a bag folder, a .zip or a .tar.gz",
                path=str(path),
            )
        name_trust(report, ctx)
        return report
    if report.trust_store is None:  # a record folder's verifier named them already
        name_trust(report, ctx)
    if not ctx.trust.cards:
        report.add(
            P.TRUST_EMPTY,
            f"the trust store {ctx.trust.location or '(none)'} holds no key cards: nothing can be trusted; "
            "pass --trust or import the archive's key cards",
        )
    return report
