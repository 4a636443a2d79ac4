"""``provenance keys …``: generate, list, revoke, import and export key cards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from provenance.cli.common import (
    ArchiveOpt,
    JsonOpt,
    PassFileOpt,
    console,
    emit_json,
    now,
    open_archive,
    printable,
    table_box,
)

app = typer.Typer(
    help="Make and manage Ed25519 keys. Example: provenance keys generate --name 'A. Archivist' --role archivist",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("generate")
def generate(
    name: Annotated[str, typer.Option("--name", help="The agent's name, as it will appear in events.")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="Role(s) the key may sign in: archivist, transcriber, translator, reviewer, custodian, "
            "publisher, auditor; log or witness (transparency log: that role only). Repeat for several.",
        ),
    ],
    valid_until: Annotated[
        str | None,
        typer.Option("--valid-until", help="End of the key's validity, UTC: 2030-01-01T00:00:00Z."),
    ] = None,
    supersedes: Annotated[
        str | None,
        typer.Option("--supersedes", help="Rotation: the key this one replaces (kept for its events)."),
    ] = None,
    kdf_rounds: Annotated[
        int | None,
        typer.Option("--kdf-rounds", help="bcrypt rounds protecting the private key (default 100, ≈0.8 s)."),
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Make it the archive's default signing key.")
    ] = False,
    allow_new_roles: Annotated[
        bool,
        typer.Option("--allow-new-roles", help="Rotation: let the new key hold roles the old key lacked."),
    ] = False,
    archive: ArchiveOpt = None,
    passphrase_file: PassFileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Make a key pair; print its key id. A name already in the archive, or one a reader could take for it,
    is refused (so that --key NAME stays unambiguous) unless --supersedes names the key of that name.

    The private key is stored encrypted under $PROVENANCE_HOME (mode 0600), never in the archive; the public
    key card goes to the archive's keys/. With --supersedes the old key (unlocked with its passphrase) signs
    a rotation statement carried by the new card, and the old key's validity ends now.

    Example: provenance keys generate --name "A. Archivist" --role archivist
    """
    from provenance import keys
    from provenance.cli.common import parse_role, read_passphrase
    from provenance.errors import ErrorCode, KeyStoreError, UsageError

    arch = open_archive(archive)
    roles = [parse_role(r) for r in role]
    if not roles:
        raise UsageError(ErrorCode.USAGE, "give at least one --role")
    if kdf_rounds is not None and kdf_rounds < 1:
        raise UsageError(ErrorCode.USAGE, "--kdf-rounds must be at least 1")
    until = keys.parse_when(valid_until) if valid_until else None
    old = None
    old_key = None
    moment = now()
    if supersedes:
        from provenance.history import check_key_usable

        old_card = keys.TrustStore.load(arch.keys_dir).resolve(supersedes)
        old = old_card.id
        check_key_usable(old_card, moment)  # a revoked or expired key cannot hand over its roles
        added = sorted({r.value for r in roles} - {r.value for r in old_card.roles})
        if added and not allow_new_roles:
            raise KeyStoreError(
                ErrorCode.KEY_ROTATION_WIDENS,
                f"the new key would hold role(s) {', '.join(added)} that {old_card.name} lacks; "
                "give --allow-new-roles if that is meant",
            )
    keys.check_new_name(arch, name, supersedes=old)  # before any passphrase is asked for
    if supersedes:
        keys.check_private_key(old_card)
        old_key = keys.unlock(old_card, read_passphrase(passphrase_file, what=f"superseded key of {old_card.name}"))
    passphrase = read_passphrase(passphrase_file, confirm=True, what="new key")
    card = keys.generate_key(
        arch,
        name=name,
        roles=roles,
        passphrase=passphrase,
        now=moment,
        rounds=kdf_rounds,
        valid_until=until,
        supersedes=old,
        old_key=old_key,
        allow_new_roles=allow_new_roles,
    )
    if default:
        _set_default_key(arch.config_path, card.id)
    if json_out:
        emit_json(
            {"key": card.id, "card": card.as_json(), "private_key": str(keys.private_key_path(card.id))}
        )
    else:
        print(card.id)


def _set_default_key(config_path: Path, key_id: str) -> None:
    import re

    from provenance import fsio

    text = config_path.read_text("utf-8") if config_path.exists() else ""
    line = f'default_key = "{key_id}"'
    if re.search(r"(?m)^#?\s*default_key\s*=.*$", text):
        text = re.sub(r"(?m)^#?\s*default_key\s*=.*$", line, text, count=1)
    else:
        text = line + "\n" + text
    try:
        fsio.write_atomic(config_path, text.encode("utf-8"))
    except OSError as exc:
        raise fsio.storage_error("update", config_path, exc) from exc


@app.command("list")
def list_keys(archive: ArchiveOpt = None, json_out: JsonOpt = False) -> None:
    """Show the archive's key cards: id, name, roles, validity, and whether this machine holds the private key.

    Example: provenance keys list --json
    """
    from provenance import keys

    arch = open_archive(archive)
    store = keys.TrustStore.load(arch.keys_dir)
    moment = now()
    rows: list[dict[str, Any]] = []
    for card in sorted(store.cards.values(), key=lambda c: (c.name, c.valid_from)):
        rows.append(
            {
                "id": card.id,
                "name": card.name,
                "roles": [r.value for r in card.roles],
                "valid_from": card.valid_from,
                "valid_until": card.valid_until,
                "status": keys.card_status(card, moment),
                "revoked": card.revoked.model_dump() if card.revoked else None,
                "supersedes": card.supersedes,
                "private_key_here": keys.has_private_key(card.id),
                "file": store.sources[card.id],
            }
        )
    look_alike = keys.confusable_pairs(store)  # names a reader could take for each other (UTS #39)
    if json_out:
        emit_json(
            {
                "keys": rows,
                "rejected": [{"file": f, "reason": r} for f, r in store.rejected],
                "confusable": [[a.id, b.id] for a, b in look_alike],
            }
        )
        return
    from rich.table import Table

    out = console()
    if not rows:
        out.print(
            f"No key cards in {arch.keys_dir}. Make one: provenance keys generate --name NAME --role ROLE"
        )
    else:
        table = Table(box=table_box(out))
        for column in ("key id", "name", "roles", "valid", "status", "private key"):
            table.add_column(column)
        for row in rows:
            window = f"{row['valid_from'][:10]} → {(row['valid_until'] or '')[:10] or 'open'}"
            table.add_row(
                str(row["id"])[:24] + "…",
                str(row["name"]),
                ", ".join(row["roles"]),
                window,
                str(row["status"]),
                "here" if row["private_key_here"] else "-",
            )
        out.print(table)
    for file, reason in store.rejected:
        console(stderr=True).print(f"refused key card {file}: {reason}")
    for a, b in look_alike:
        console(stderr=True).print(
            f"warning: {a.name!r} ({a.id[:20]}…) and {b.name!r} ({b.id[:20]}…) look alike; a report naming "
            "either could mean the other: remove the card you do not trust"
        )


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="Key id, shortened id or name.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (for example: compromised, left the project).")
    ] = ("revoked"),
    at: Annotated[
        str | None,
        typer.Option("--at", help="Effective time, UTC (default: now). Events from then on are not trusted."),
    ] = None,
    archive: ArchiveOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Revoke a key: events it signed at or after the effective time are no longer trusted.

    Example: provenance keys revoke "T. Translator" --reason "laptop stolen" --at 2026-11-01T00:00:00Z
    """
    from provenance import keys

    arch = open_archive(archive)
    moment = keys.parse_when(at) if at else now()
    card = keys.revoke(arch, key, reason=reason, at=moment)
    if json_out:
        emit_json({"key": card.id, "card": card.as_json()})
    else:
        assert card.revoked is not None
        print(printable(f"revoked {card.id} ({card.name}) from {card.revoked.time}"))


@app.command("import")
def import_card(
    cards: Annotated[
        list[Path],
        typer.Argument(
            help="Key card file(s) (.json), or a folder of them, to add to this archive's trust store."
        ),
    ],
    allow_new_roles: Annotated[
        bool,
        typer.Option(
            "--allow-new-roles",
            help="After review: accept a rotation whose new key holds roles the old key lacked (reported).",
        ),
    ] = False,
    archive: ArchiveOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add key cards to the archive's keys/ (the trust store verify uses).

    Every card is checked before any is written: one bad card imports none. Refused: weak keys, names with
    invisible characters or that look like a trusted signer's (key.name-confusable), a card that widens a
    trusted one (key.conflict), a rotation not signed by the old key (key.rotation-unproven) or adding roles
    the old key lacked without --allow-new-roles (key.rotation-widens).

    Example: provenance keys import received-keys/    (or: provenance keys import archivist.json)
    """
    import stat

    from provenance import keys
    from provenance.errors import ErrorCode, NotFoundError

    arch = open_archive(archive)
    files: list[Path] = []
    listed: set[Path] = set()
    for path in cards:
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise NotFoundError(
                    ErrorCode.INPUT_NOT_FOUND, f"{path}: no key cards (*.json) in this folder"
                )
            for entry in found:
                if not stat.S_ISREG(entry.lstat().st_mode):  # a FIFO, link or device: skipped, never waited on
                    console(stderr=True).print(f"skipped {entry}: not a regular file")
                    continue
                files.append(entry)
                listed.add(entry)
        else:
            files.append(path)
    widened: dict[str, list[str]] = {}
    results = keys.import_cards(
        arch, files, allow_new_roles=allow_new_roles, roles_added=widened, listed=frozenset(listed)
    )
    if json_out:
        entries = [
            {"key": c.id, "added": added, "card": c.as_json(), **({"roles_added": widened[c.id]} if c.id in widened else {})}
            for c, added in results
        ]
        document: dict[str, Any] = {"keys": entries}
        if len(entries) == 1:
            document.update(entries[0])
        emit_json(document)
        return
    for card, added in results:
        print(printable(f"{'imported' if added else 'already present:'} {card.id} ({card.name})"))
        if card.supersedes:
            print(printable(f"  rotation from {card.supersedes} proven by the old key's signature"))
        if card.id in widened:
            print(printable(f"  roles added after review (--allow-new-roles): {', '.join(widened[card.id])}"))


@app.command("export")
def export_card(
    key: Annotated[str | None, typer.Argument(help="Key id, shortened id or name.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the card to this file (with --all: into this folder)."),
    ] = None,
    all_cards: Annotated[
        bool, typer.Option("--all", help="Every card of the archive (for a publisher to import at once).")
    ] = False,
    archive: ArchiveOpt = None,
) -> None:
    """Print (or write) key cards, to hand to a publisher who will import them.

    Example: provenance keys export --all --out cards/   (or: provenance keys export "A. Archivist")
    """
    from provenance import fsio, keys
    from provenance.errors import ErrorCode, UsageError

    arch = open_archive(archive)
    store = keys.TrustStore.load(arch.keys_dir)
    if all_cards == (key is not None):
        raise UsageError(ErrorCode.USAGE, "name one KEY, or give --all --out FOLDER")
    if all_cards:
        if out is None:
            raise UsageError(ErrorCode.USAGE, "--all needs --out FOLDER")
        try:
            out.mkdir(parents=True, exist_ok=True)
            for card in store.cards.values():
                fsio.write_atomic(out / keys.card_filename(card), keys.card_bytes(card))
        except OSError as exc:
            raise fsio.storage_error("write key cards into", out, exc) from exc
        print(f"wrote {len(store.cards)} key card(s) into {out}")
        return
    assert key is not None
    card = store.resolve(key)
    data = keys.card_bytes(card)
    if out is None:
        import sys

        sys.stdout.write(data.decode("utf-8"))
        return
    try:
        fsio.write_atomic(out, data)
    except OSError as exc:
        raise fsio.storage_error("write", out, exc) from exc
    print(f"wrote {out}")
