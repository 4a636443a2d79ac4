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
    from provenance.cli.common import passphrase_source
    from provenance.keyring import create_key, private_key_path

    arch = open_archive(archive)
    card = create_key(
        arch,
        name=name,
        roles=list(role),
        passphrase=passphrase_source(passphrase_file),
        now=now(),
        valid_until=valid_until,
        supersedes=supersedes,
        kdf_rounds=kdf_rounds,
        allow_new_roles=allow_new_roles,
        make_default=default,
    )
    if json_out:
        emit_json({"key": card.id, "card": card.as_json(), "private_key": str(private_key_path(card.id))})
    else:
        print(card.id)


@app.command("list")
def list_keys(archive: ArchiveOpt = None, json_out: JsonOpt = False) -> None:
    """Show the archive's key cards: id, name, roles, validity, and whether this machine holds the private key.

    Example: provenance keys list --json
    """
    from provenance.keyring import list_keys as listing

    arch = open_archive(archive)
    found = listing(arch, now=now())
    rows, look_alike = found.rows, found.confusable
    if json_out:
        emit_json(found.to_json())
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
    for file, reason in found.rejected:
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
    from provenance.keyring import parse_when, revoke_key

    arch = open_archive(archive)
    moment = parse_when(at) if at else now()
    card = revoke_key(arch, key, reason=reason, at=moment)
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
    from provenance.keyring import import_key_cards

    arch = open_archive(archive)
    imported = import_key_cards(arch, list(cards), allow_new_roles=allow_new_roles)
    for entry in imported.skipped:  # a FIFO, link or device: skipped, never waited on
        console(stderr=True).print(f"skipped {entry}: not a regular file")
    results, widened = imported.cards, imported.roles_added
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
    from provenance import ErrorCode
    from provenance.exceptions import UsageError
    from provenance.keyring import export_key_card, export_key_cards, key_card_bytes

    arch = open_archive(archive)
    if all_cards == (key is not None):
        raise UsageError(ErrorCode.USAGE, "name one KEY, or give --all --out FOLDER")
    if all_cards:
        if out is None:
            raise UsageError(ErrorCode.USAGE, "--all needs --out FOLDER")
        written = export_key_cards(arch, out)
        print(f"wrote {len(written)} key card(s) into {out}")
        return
    assert key is not None
    if out is None:
        import sys

        sys.stdout.write(key_card_bytes(arch, key).decode("utf-8"))
        return
    export_key_card(arch, key, out)
    print(f"wrote {out}")
