"""Which trust store and roles policy a verdict rests on (README "Concepts"): one rule, in the library.

With a trust store named (``trust``), only it decides: its key cards, and the roles policy of its own
``provenance.toml`` (or, when it is an archive's ``keys/``, that archive's) else the defaults; nothing of the
archive or bundle being verified, nor of the current folder. Without one: the ``keys/`` and
``provenance.toml`` of the archive named (``archive``), else ``$PROVENANCE_ARCHIVE``, else the current
folder, else the archive holding a record folder being verified; else no trust store at all (nothing can be
trusted, and the report says so).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.errors import ErrorCode, NotFoundError, ProvenanceError

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.model.events import EventType, Role
    from provenance.verify.record import VerifyContext

NO_TRUST_STORE = Path("/nonexistent-trust-store")


def verifier_context(
    paths: list[Path] | tuple[Path, ...] = (),
    *,
    trust: Path | None = None,
    archive: Path | None = None,
    policy: dict[EventType, frozenset[Role]] | None = None,
    now: datetime | None = None,
) -> VerifyContext:
    """The verifier's trust store, roles policy and clock for verifying ``paths`` (see the module's rule).

    ``policy`` given by the caller replaces the one the rule would choose (the report then says
    ``"caller"``). Raises ``NotFoundError(input.not-found)`` for a ``trust`` that does not exist,
    ``InputError(archive.config-invalid)`` for a configuration that cannot be read.
    """
    from provenance.archive import Archive
    from provenance.model.timefmt import utc_now
    from provenance.verify.target import make_context, trust_context

    moment = now or utc_now()
    if trust is not None:
        if not trust.exists():
            raise NotFoundError(
                ErrorCode.INPUT_NOT_FOUND, f"trust store {trust}: no such file or folder", path=str(trust)
            )
        if policy is not None:
            return make_context(trust, moment, policy, trust_origin="option")
        return trust_context(trust, moment)
    arch = None
    try:
        arch = Archive.locate(archive)
    except ProvenanceError:
        # a record folder inside an archive: records/<id> → the archive two levels up
        for path in paths:
            candidate = path.resolve().parent.parent
            if path.is_dir() and (candidate / "records").is_dir() and (candidate / "keys").is_dir():
                arch = Archive(candidate)
                break
    if arch is None:
        return make_context(NO_TRUST_STORE, moment, policy, trust_origin="none")
    if policy is not None:
        return make_context(arch.keys_dir, moment, policy, trust_origin="archive")
    return archive_context(arch, moment)


def archive_context(arch: Archive, moment: datetime) -> VerifyContext:
    """The archive's own word: its ``keys/`` as the trust store, the roles policy of its
    ``provenance.toml`` (else the defaults), named so in the report."""
    from provenance.verify.target import make_context

    has_config = arch.config_path.is_file()
    return make_context(
        arch.keys_dir,
        moment,
        arch.config().policy,
        trust_origin="archive",
        policy_path=arch.config_path if has_config else None,
        policy_origin="archive" if has_config else "default",
    )
