"""Commands that create or change records: init, ingest, note, custody, revise, review, release, …"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from provenance.cli.common import (
    JsonOpt,
    PassFileOpt,
    Signing,
    emit_json,
    load_signer,
    now,
    open_archive,
    passphrase_source,
    printable,
    signs,
)
from provenance.records import AttachRole, Profile, WrittenNoteKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from provenance import EventType, Manifest

RecordArg = Annotated[str, typer.Argument(help="Record id, e.g. telegram-23256.")]


def _act(
    signing: Signing,
    record: str,
    event_type: EventType,
    action: Callable[..., Manifest],
    describe: Callable[[Manifest], str],
    **options: Any,
) -> None:
    """Sign one event of ``event_type`` on ``record`` with the library's ``action`` (given ``options``), the
    record checked and the signer unlocked first; print the event (--json) or ``describe``'s line."""
    arch = open_archive(signing.archive)
    arch.refuse_links(record)  # before anything of the archive is read: no link is followed (issue 9)
    arch.require_record(record)
    signer = load_signer(arch, event_type, signing.key, signing.passphrase_file, signing.role)
    manifest = action(arch, record, signer, now=now(), **options)
    if signing.json_out:
        emit_json({"record": manifest.record, "event": manifest.events[-1].model_dump(mode="json")})
    else:
        print(printable(describe(manifest)))


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        path: Annotated[Path, typer.Argument(help="Folder for the new archive.")] = Path("."),
        log_origin: Annotated[
            str | None,
            typer.Option("--log-origin", help="Start a transparency log with this origin (makes the log key)."),
        ] = None,
        passphrase_file: PassFileOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Create an archive: records/, keys/ and a commented provenance.toml; with --log-origin also its
        transparency log and log key.

        Example: provenance init ~/archives/korea-1951 --log-origin archive.example.org/korea-1951
        """
        from provenance import Archive

        archive, created = Archive.init(path)
        log = None
        if log_origin is not None:
            from provenance.cli.tlog_cmds import enable_log

            log = enable_log(archive, log_origin, passphrase_file)
        if json_out:
            emit_json({"archive": str(archive.root), "created": created, "log": log})
        else:
            print(f"{'created' if created else 'already an archive:'} {archive.root}")
            if log is not None:
                print(f"log {log['origin']}: log key {log['note_verifier_key']}")

    @app.command("ingest")
    @signs
    def ingest(
        file: Annotated[Path, typer.Argument(help="The transcription (UTF-8 text, stored byte for byte).")],
        record_id: Annotated[
            str | None, typer.Option("--id", help="Record id (default: telegram-<number> or the file name).")
        ] = None,
        profile: Annotated[
            Profile,
            typer.Option("--profile", help="auto: telegram when the header is found, else generic."),
        ] = Profile.AUTO,
        metadata: Annotated[
            Path | None,
            typer.Option("--metadata", help="Catalogue sidecar (JSON, schemas/catalogue.schema.json)."),
        ] = None,
        encoding: Annotated[
            str | None,
            typer.Option("--encoding", help="Decode the text with this encoding (bytes kept as given)."),
        ] = None,
        document_type: Annotated[str | None, typer.Option("--document-type")] = None,
        issuing_body: Annotated[str | None, typer.Option("--issuing-body")] = None,
        telegram_number: Annotated[str | None, typer.Option("--telegram-number")] = None,
        series: Annotated[str | None, typer.Option("--series")] = None,
        copies: Annotated[
            str | None, typer.Option("--copies", help='Distribution list: "Stalin (2), Molotov".')
        ] = None,
        origin: Annotated[str | None, typer.Option("--origin")] = None,
        sent: Annotated[str | None, typer.Option("--sent", help="ISO 8601 / EDTF: 1951-08-27T01:30.")] = None,
        sent_as_written: Annotated[str | None, typer.Option("--sent-as-written")] = None,
        addressee: Annotated[str | None, typer.Option("--addressee")] = None,
        addressee_identified_as: Annotated[str | None, typer.Option("--addressee-identified-as")] = None,
        author: Annotated[str | None, typer.Option("--author")] = None,
        title: Annotated[str | None, typer.Option("--title")] = None,
        language: Annotated[
            str | None, typer.Option("--language", help="BCP 47 tag of the text: en, ru.")
        ] = None,
        original_language: Annotated[str | None, typer.Option("--original-language")] = None,
        source: Annotated[str | None, typer.Option("--source", help="Archival citation.")] = None,
        rights: Annotated[str | None, typer.Option("--rights")] = None,
        *,
        signing: Signing,
    ) -> None:
        """Register a transcription with its catalogue metadata as a new signed record; print its id.

        The telegram profile reads the header of a translated ciphered telegram; every [bracketed] editorial
        insertion becomes a note. Options and --metadata override what the profile found.

        Example: provenance ingest telegram-23256.txt --title "Mao Zedong to Filippov [Stalin]" --source "APRF f. 45"
        """
        from provenance import ingest_file
        from provenance.records import parse_copies

        arch = open_archive(signing.archive)
        overrides: dict[str, Any] = {
            "document_type": document_type,
            "issuing_body": issuing_body,
            "telegram_number": telegram_number,
            "series": series,
            "copies": parse_copies(copies) if copies else None,
            "origin": origin,
            "sent": sent,
            "sent_as_written": sent_as_written,
            "addressee": addressee,
            "addressee_identified_as": addressee_identified_as,
            "author": author,
            "title": title,
            "language": language,
            "original_language": original_language,
            "source": source,
            "rights": rights,
        }
        # The library checks everything that needs no key before the passphrase is asked for.
        manifest = ingest_file(
            arch,
            file,
            key=signing.key,
            role=signing.role,
            passphrase=passphrase_source(signing.passphrase_file),
            profile=profile,
            metadata=metadata,
            catalogue=overrides,
            encoding=encoding,
            record_id=record_id,
            now=now(),
        )
        for change in manifest.events[-1].details.get("normalised", []):
            typer.echo(printable(f"normalised: {change}"), err=True)
        if signing.json_out:
            emit_json(
                {
                    "record": manifest.record,
                    "catalogue": manifest.state.catalogue.as_json(),
                    "files": [f.model_dump(mode="json", exclude_none=True) for f in manifest.state.files],
                    "notes": len(manifest.state.notes),
                    "normalised": manifest.events[-1].details.get("normalised", []),
                    "event": manifest.events[-1].model_dump(mode="json"),
                }
            )
        else:
            print(manifest.record)

    @app.command("note")
    @signs
    def note(
        record: RecordArg,
        quote: Annotated[str | None, typer.Option("--quote", help="Exact text the note is anchored to.")] = None,
        text: Annotated[str | None, typer.Option("--text", help="The note.")] = None,
        from_annotations: Annotated[
            Path | None,
            typer.Option(
                "--from-annotations",
                help="Import a W3C Web Annotation collection (JSON-LD): one signed note event per annotation.",
            ),
        ] = None,
        occurrence: Annotated[
            int | None,
            typer.Option(
                "--occurrence", help="Which occurrence, when the quote occurs more than once (1-based)."
            ),
        ] = None,
        kind: Annotated[
            WrittenNoteKind, typer.Option("--kind", help="What the note is.")
        ] = WrittenNoteKind.TRANSLATION,
        file: Annotated[
            str | None, typer.Option("--file", help="Which file of the record (default: the transcription).")
        ] = None,
        *,
        signing: Signing,
    ) -> None:
        """Add a translation or editorial note anchored to an exact quote (an annotation event).

        With --from-annotations, every annotation of a Web Annotation collection (as 'export --format
        annotations' writes) becomes a signed note event; notes the record holds already are skipped.

        Example: provenance note telegram-23256 --quote "Kim II Sung" --text "OCR-like misreading of Kim Il Sung"
        (or: provenance note telegram-23256 --from-annotations notes.jsonld)
        """
        from provenance import ErrorCode, EventType
        from provenance import note as add_note
        from provenance.exceptions import UsageError

        if from_annotations is not None:
            from provenance.cli.reader_cmds import import_notes

            if quote is not None or text is not None:
                raise UsageError(ErrorCode.USAGE, "--from-annotations takes no --quote or --text")
            import_notes(signing, record, from_annotations)
            return
        if quote is None or text is None:
            raise UsageError(ErrorCode.USAGE, "a note needs --quote and --text (or --from-annotations FILE)")

        def anchored(manifest: Manifest) -> str:
            added = manifest.state.notes[-1]
            at = added.target.position.start if added.target.position else "?"
            return f"{added.id} anchored at {at} (event {manifest.events[-1].seq})"

        _act(signing, record, EventType.ANNOTATION, add_note, anchored,
             quote=quote, text=text, kind=kind, occurrence=occurrence, file=file)

    @app.command("custody")
    @signs
    def custody(
        record: RecordArg,
        from_: Annotated[
            str | None, typer.Option("--from", help="Who hands the record over (required).")
        ] = None,
        to: Annotated[str | None, typer.Option("--to", help="Who receives it (required).")] = None,
        note: Annotated[str | None, typer.Option("--note")] = None,
        *,
        signing: Signing,
    ) -> None:
        """Record a custody transfer (PREMIS transfer).

        Example: provenance custody telegram-23256 --from "Archive of the President" --to "Wilson Center"
        """
        from provenance import ErrorCode, EventType
        from provenance import custody as transfer_custody
        from provenance.exceptions import UsageError

        # checked here, before any passphrase is asked for: one clear line (and --json) like every refusal
        missing = [name for name, value in (("--from", from_), ("--to", to)) if not (value or "").strip()]
        if missing or from_ is None or to is None:
            raise UsageError(
                ErrorCode.USAGE,
                f"a custody transfer needs both --from and --to ({' and '.join(missing)} missing)",
            )
        _act(signing, record, EventType.CUSTODY_TRANSFER, transfer_custody,
             lambda m: f"custody: {from_} → {to} (event {m.events[-1].seq})", from_=from_, to=to, note=note)

    @app.command("revise")
    @signs
    def revise(
        record: RecordArg,
        file: Annotated[Path, typer.Argument(help="The new version of the text.")],
        reason: Annotated[str, typer.Option("--reason", help="Why the text changed.")],
        target: Annotated[
            str | None,
            typer.Option("--file", help="Which file of the record it replaces (default: the transcription)."),
        ] = None,
        encoding: Annotated[str | None, typer.Option("--encoding")] = None,
        *,
        signing: Signing,
    ) -> None:
        """Replace the text with a new version; the old version stays stored and notes are re-anchored.

        Example: provenance revise telegram-23256 corrected.txt --reason "Kim II Sung -> Kim Il Sung"
        """
        from provenance import EventType
        from provenance import revise as do_revise


        def revised(manifest: Manifest) -> str:
            orphaned = manifest.events[-1].details.get("orphaned_notes") or []
            extra = f"; orphaned notes: {', '.join(orphaned)}" if orphaned else ""
            return f"revised (event {manifest.events[-1].seq}){extra}"

        _act(signing, record, EventType.REVISION, do_revise, revised,
             source=file, reason=reason, file=target, encoding=encoding)

    @app.command("review")
    @signs
    def review(
        record: RecordArg,
        note: Annotated[str | None, typer.Option("--note")] = None,
        outcome: Annotated[
            str, typer.Option("--outcome", help="approved or changes-requested.")
        ] = "approved",
        *,
        signing: Signing,
    ) -> None:
        """Record a review of the current version (reviewer role).

        Example: provenance review telegram-23256 --note "Checked against the Russian original"
        """
        from provenance import EventType
        from provenance import review as do_review

        _act(signing, record, EventType.REVIEW, do_review, lambda m: f"reviewed (event {m.events[-1].seq})",
             note=note, outcome=outcome)

    @app.command("release")
    @signs
    def release(
        record: RecordArg,
        note: Annotated[str | None, typer.Option("--note")] = None,
        *,
        signing: Signing,
    ) -> None:
        """Record the release of the current version (publisher role; PREMIS dissemination).

        Example: provenance release telegram-23256 --key "P. Publisher"
        """
        from provenance import EventType
        from provenance import release as do_release

        _act(signing, record, EventType.RELEASE, do_release, lambda m: f"released (event {m.events[-1].seq})",
             note=note)

    @app.command("catalogue")
    @signs
    def catalogue(
        record: RecordArg,
        set_: Annotated[
            list[str] | None, typer.Option("--set", help='FIELD=VALUE (repeat); copies as "A (2), B".')
        ] = None,
        unset: Annotated[list[str] | None, typer.Option("--unset", help="FIELD to remove (repeat).")] = None,
        reason: Annotated[str | None, typer.Option("--reason")] = None,
        *,
        signing: Signing,
    ) -> None:
        """Change catalogue metadata (a metadata-change event).

        Example: provenance catalogue telegram-23256 --set "source=APRF, f. 45, op. 1, d. 340" --reason "citation found"
        """
        from provenance import ErrorCode, EventType
        from provenance import change_catalogue as change_metadata
        from provenance.exceptions import UsageError
        from provenance.records import CATALOGUE_FIELDS, parse_copies

        changes: dict[str, Any] = {}
        for item in set_ or []:
            name, sep, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in CATALOGUE_FIELDS:
                raise UsageError(
                    ErrorCode.USAGE,
                    f"--set {item!r}: use FIELD=VALUE with a field of: {', '.join(CATALOGUE_FIELDS)}",
                )
            changes[name] = parse_copies(value) if name == "copies" else value
        for name in unset or []:
            field = name.strip().replace("-", "_")
            if field not in CATALOGUE_FIELDS:
                raise UsageError(ErrorCode.USAGE, f"--unset {name!r}: not a catalogue field")
            changes[field] = None
        _act(signing, record, EventType.METADATA_CHANGE, change_metadata,
             lambda m: f"catalogue changed (event {m.events[-1].seq})", changes=changes, reason=reason)

    @app.command("attach")
    @signs
    def attach(
        record: RecordArg,
        file: Annotated[
            Path,
            typer.Argument(
                help="The file to add (the original, a scan, …), or a folder: every file below it, "
                "relative paths kept, in one event (a dossier of page scans)."
            ),
        ],
        as_role: Annotated[
            AttachRole, typer.Option("--as", help="What the file is to the record.")
        ] = AttachRole.ATTACHMENT,
        name: Annotated[
            str | None,
            typer.Option("--name", help="Path inside the record (default: the file's or the folder's name)."),
        ] = None,
        language: Annotated[str | None, typer.Option("--language", help="BCP 47 tag of its text.")] = None,
        media_type: Annotated[str | None, typer.Option("--media-type")] = None,
        *,
        signing: Signing,
    ) -> None:
        """Attach a further file, or a folder of files, to the record, byte for byte (PREMIS capture).

        Example: provenance attach telegram-23256 original-ru.txt --as original --language ru

        Example: provenance attach telegram-23256 scans/ --as scan   (every page, as scans/<page>)
        """
        from provenance import EventType
        from provenance import attach as do_attach


        def attached(manifest: Manifest) -> str:
            details = manifest.events[-1].details
            what = (
                f"{details['files']} files under {details['folder']}/"
                if "folder" in details
                else manifest.state.files[-1].path
            )
            return f"attached {what} (event {manifest.events[-1].seq})"

        _act(signing, record, EventType.ATTACHMENT, do_attach, attached,
             source=file, role=as_role, name=name, language=language, media_type=media_type)

    @app.command("translate")
    @signs
    def translate(
        record: RecordArg,
        file: Annotated[Path, typer.Argument(help="The translation.")],
        target_language: Annotated[str, typer.Option("--to", help="BCP 47 tag of the translation: en.")],
        source_file: Annotated[
            str,
            typer.Option("--of", help="Which file of the record it translates (default: the transcription)."),
        ] = "",
        name: Annotated[str | None, typer.Option("--name")] = None,
        *,
        signing: Signing,
    ) -> None:
        """Record a translation: add it as a file, naming its source and target languages (BCP 47).

        Example: provenance translate telegram-7702 translation-en.txt --to en
        """
        from provenance import EventType
        from provenance import translate as do_translate

        _act(signing, record, EventType.TRANSLATION, do_translate,
             lambda m: f"translation {m.state.files[-1].path} recorded (event {m.events[-1].seq})",
             source=file, language=target_language, of=source_file, name=name)
