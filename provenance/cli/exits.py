"""The command line's decisions about failures: the exit code of a verdict or an error, and the hint that
names the option to use. The library decides neither (issue 15 item 2): its errors carry a code, its
reports a state.

Exit codes (README, DESIGN): 0 trusted (or done), 1 invalid, 2 the command could not run, 3 valid but not
trusted. Imports nothing at start-up: the fast path of ``verify`` uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provenance import ProvenanceError, TrustState

# the verdicts: one exit code each
EXIT_FOR_STATE: dict[str, int] = {"trusted": 0, "invalid": 1, "valid": 3}
# an error is "could not run" (2) unless it is a verdict on the source a command was to read
EXIT_FOR_CODE: dict[str, int] = {"source.invalid": 1, "source.not-trusted": 3}
COULD_NOT_RUN = 2

# What to do, in the command line's words, by error code (the library's messages name no option). A hint
# for one command only is keyed (command, code) and wins over the general one.
HINTS: dict[str, str] = {
    "archive.not-found": "run 'provenance init PATH' or give --archive",
    "output.exists": "choose another --out",
    "key.passphrase-missing": "give --passphrase-file FILE or set PROVENANCE_PASSPHRASE",
    "key.none-usable": "run 'provenance keys generate' or give --key",
    "key.ambiguous": "choose one with --key (see 'provenance keys list')",
    "key.not-found": "see 'provenance keys list'",
    "agent.running": "run 'provenance agent stop' first",
    "key.rotation-widens": "give --allow-new-roles if that is meant",
    "input.not-utf8": "give its encoding with --encoding (for example --encoding cp1251)",
    "profile.no-match": "use --profile generic and give the metadata with options or --metadata",
    "source.invalid": "--force writes it with the state shown",
    "source.not-trusted": "import the signers' key cards, or --force writes it with the state shown",
    "log.not-enabled": "run 'provenance tlog init'",
    "record.corrupt": "run 'provenance verify' on it to see every problem",
    "log.damaged": "run 'provenance audit' to see what the log lacks",
}
COMMAND_HINTS: dict[tuple[str, str], str] = {
    ("ingest", "record.exists"): "choose another --id, or use 'provenance revise'",
    ("export", "output.exists"): "choose another --out (or, for an OCFL storage root, --into)",
    ("witness", "key.not-found"): "run 'provenance witness init'",
    ("attach", "record.exists"): "use 'provenance revise'",
}


# A usage error names the library's parameter (``param``); the option that sets it, where its name differs
PARAM_OPTIONS: dict[str, str] = {"fields": "--field", "roles": "--role", "changes": "--set", "kdf_rounds": "--kdf-rounds"}
COMMAND_PARAM_OPTIONS: dict[tuple[str, str], str] = {("attach", "role"): "--as", ("translate", "language"): "--to"}


def option_for(param: str, command: str | None) -> str:
    """The option of ``command`` that sets the library's parameter ``param``: ``older_than`` → ``--older-than``."""
    if command is not None and (command, param) in COMMAND_PARAM_OPTIONS:
        return COMMAND_PARAM_OPTIONS[(command, param)]
    return PARAM_OPTIONS.get(param, "--" + param.replace("_", "-"))


def with_hint(document: dict[str, object], message: str, command: str | None) -> tuple[dict[str, object], str]:
    """The error's JSON document and line with the command line's hint: what to do (by code), else the
    options the parameters named by the error are set with. The library's message is kept as it is."""
    hint = hint_for(str(document.get("code", "")), command)
    param = document.get("param")
    if not hint and param:
        params = [param] if isinstance(param, str) else [str(p) for p in param] if isinstance(param, list) else []
        hint = "see " + ", ".join(option_for(p, command) for p in params) if params else ""
    if not hint:
        return document, message
    return {**document, "hint": hint}, f"{message}; {hint}"


def exit_for_state(state: TrustState | str) -> int:
    """0 trusted, 1 invalid, 3 valid (intact and signed, a signer not trusted)."""
    return EXIT_FOR_STATE[str(state)]


def exit_for_error(error: ProvenanceError) -> int:
    """2 (the command could not run), but 1 or 3 when a source to read did not verify (its state)."""
    return EXIT_FOR_CODE.get(str(error.code), COULD_NOT_RUN)


def hint_for(code: str, command: str | None) -> str:
    """The hint for ``code`` in ``command`` (empty when there is none)."""
    if command is not None and (command, str(code)) in COMMAND_HINTS:
        return COMMAND_HINTS[(command, str(code))]
    return HINTS.get(str(code), "")
