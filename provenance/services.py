"""The archive's helpers that are not its records, as the public API offers them: the search index (derived
from the manifests; search is not verification) and the signing agent. See ``docs/api.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.errors import ErrorCode

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.search import Filters, Found
    from provenance.signers import Passphrase


def search_filters(
    archive: Archive,
    *,
    fields: list[str] | None = None,
    sent_from: str | None = None,
    sent_to: str | None = None,
    signer: str | None = None,
    released: bool = False,
) -> Filters:
    """The filters of :func:`search_records` and :func:`list_records`: ``fields`` as ``FIELD=VALUE`` (the
    field contains the value, case and accents aside; Dublin Core names too), ``sent_from``/``sent_to`` ISO
    8601 dates, ``signer`` a key (resolved through the archive's trust store) or an agent's name.
    Raises ``UsageError``."""
    from provenance.errors import NotFoundError
    from provenance.keys import TrustStore
    from provenance.search import Filters, check_date, parse_field_filters

    key = None
    if signer:
        try:
            key = TrustStore.load(archive.keys_dir).resolve(signer).id
        except NotFoundError:
            key = signer
    return Filters(
        fields=parse_field_filters(fields or []),
        sent_from=check_date("sent from", sent_from),
        sent_to=check_date("sent to", sent_to),
        signer=key,
        released=released,
    )


def search_records(archive: Archive, query: str, filters: Filters | None = None, *, limit: int = 20) -> Found:
    """Ranked full-text search of the archive's texts, notes and catalogue (FTS5 syntax), each result
    checked against its manifest's digest. Returns ``Found`` (``hits``, ``total``, ``status``).
    Raises ``UsageError`` for an empty query, ``UnavailableError(index.unavailable)``."""
    from provenance.search import Filters, search

    return search(archive, query, filters if filters is not None else Filters(), limit=limit)


def index_status(archive: Archive, *, rebuild: bool = False, check: bool = False) -> dict[str, Any]:
    """The search index (``.provenance/index.sqlite``, derived from the manifests), made current first:
    ``rebuild`` rebuilds it whole, ``check`` compares every indexed record with its manifest and re-indexes
    what differs. Returns ``records``, ``rebuilt``, ``reindexed``, ``path``."""
    from provenance import catalogue_index

    if rebuild:
        db, _ = catalogue_index.open_index(archive)  # opened first: a damaged file is replaced, not rebuilt in place
        db.close()
        count = catalogue_index.rebuild(archive)
        document: dict[str, Any] = {"records": count, "rebuilt": True, "reindexed": count}
    elif check:
        count, differ = catalogue_index.check_all(archive)
        document = {"records": count, "rebuilt": False, "reindexed": differ}
    else:
        db, status = catalogue_index.open_index(archive)
        count = db.execute("SELECT count(*) FROM records").fetchone()[0]
        db.close()
        document = {"records": count, "rebuilt": status.rebuilt, "reindexed": status.refreshed}
    document["path"] = str(catalogue_index.index_path(archive))
    return document


@dataclass(frozen=True)
class AgentStarted:
    """A signing agent serving: its socket, when it stops, the keys it holds, the keys the passphrase did
    not open, and the shell lines that point signing commands at it (as ``ssh-agent`` prints)."""

    socket: Path
    pid: int
    expires: str
    keys: list[str]
    skipped: list[str]
    shell_lines: str


def start_agent(
    archive: Archive,
    *,
    keys: list[str] | None = None,
    timeout: str = "15m",
    passphrase: Passphrase | None = None,
    on_ready: Callable[[AgentStarted], None],
) -> None:
    """Unlock the archive's keys held on this machine (or those named by ``keys``) with one passphrase and
    serve signatures on a private Unix socket until ``timeout`` (``15m``, ``2h``, at most ``7d``). The
    agent runs as a daemon: ``on_ready`` is called once it listens. Raises ``NotFoundError(key.none-usable)``
    when no key can be held, ``KeyStoreError`` when the passphrase opens none."""
    import time
    from datetime import timedelta

    from provenance import agent
    from provenance import keys as key_store
    from provenance.errors import NotFoundError
    from provenance.model.timefmt import format_utc, utc_now
    from provenance.signers import Passphrase

    seconds = agent.parse_duration(timeout)
    store = key_store.TrustStore.load(archive.keys_dir)
    if keys:
        cards = [store.resolve(ref) for ref in keys]
    else:
        cards = [c for c in store.cards.values() if key_store.has_private_key(c.id)]
    cards = [c for c in cards if c.revoked is None]
    if not cards:
        raise NotFoundError(ErrorCode.KEY_NO_DEFAULT, "no private key here for any key card of this archive")
    unlocked, skipped = agent.unlock_keys(cards, (passphrase or Passphrase()).read("keys (agent)"))
    listener, path = agent.listen(agent.socket_folder())
    expires = format_utc(utc_now() + timedelta(seconds=seconds))
    server = agent.Agent(
        keys=unlocked, listener=listener, path=path, deadline=time.monotonic() + seconds, expires=expires
    )
    names = [card.name for card, _ in unlocked.values()]

    def ready(pid: int) -> None:
        on_ready(AgentStarted(path, pid, expires, names, skipped, agent.shell_lines(path, pid)))

    agent.daemonize(server, ready)


def agent_status() -> dict[str, Any] | None:
    """The running agent's answer (pid, socket, expires, seconds_left, signed, keys), or ``None``."""
    from provenance import agent

    return agent.status()


def stop_agent() -> dict[str, Any]:
    """Stop the running agent; its last answer. Raises ``UnavailableError(agent.unavailable)``."""
    from provenance import agent

    return agent.stop()
