"""Issue 9 item 5: the trust root is the verifier's alone.

The archive verified here lets translators release (its own provenance.toml), and its translator did. With
``--trust DIR`` nothing of that archive, of a bundle made from it, or of the current folder may decide: the
release is ``signer.role-not-allowed`` unless DIR's own configuration allows it. Without ``--trust`` the
rule of the README and of ``verify --help`` applies. Every report names the trust store and the policy.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.bundle.export import export_record
from provenance.cli.verify_run import TRUST_RULE
from tests.bundle_helpers import copy_bag, rebag
from tests.conftest import REFERENCE, World, make_world

RID = "telegram-23256"
PERMISSIVE = '[roles]\nrelease = ["translator", "publisher"]\n'


@dataclass
class Setup:
    world: World
    archive: Path  # the archive being verified (its policy lets translators release)
    mine: Path  # a trust store: copies of the cards, no configuration
    mine_cfg: Path  # copies of the cards with a provenance.toml of their own that allows it too
    other_keys: Path  # keys/ of another archive whose provenance.toml allows it
    bad_cfg: Path  # a trust store whose provenance.toml is not TOML
    bundle: Path
    bag: Path
    bag_with_config: Path  # a bag carrying a provenance.toml of its own
    elsewhere: Path  # a folder that is no archive


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    tmp = tmp_path_factory.mktemp("trust-root")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_HOME", str(tmp / "home"))
        world = make_world(tmp)
        a = world.archive
        ingest(a, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
        a.config_path.write_text(PERMISSIVE, "utf-8")
        actions.release(a, RID, world.signers["translator"], now=world.tick())
    mine = tmp / "mine"
    shutil.copytree(a.keys_dir, mine)
    mine_cfg = tmp / "mine-cfg"
    shutil.copytree(a.keys_dir, mine_cfg)
    (mine_cfg / "provenance.toml").write_text(PERMISSIVE, "utf-8")
    other = tmp / "other"
    (other / "records").mkdir(parents=True)
    shutil.copytree(a.keys_dir, other / "keys")
    (other / "provenance.toml").write_text(PERMISSIVE, "utf-8")
    bad = tmp / "bad-cfg"
    shutil.copytree(a.keys_dir, bad)
    (bad / "provenance.toml").write_text("[roles\n", "utf-8")
    export_record(a, RID, tmp / "bundle.zip")
    export_record(a, RID, tmp / "bag")
    bag_cfg = copy_bag(tmp / "bag", tmp / "bag-cfg")
    (bag_cfg / "provenance.toml").write_text(PERMISSIVE, "utf-8")
    rebag(bag_cfg)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return Setup(world, a.root, mine, mine_cfg, other / "keys", bad, tmp / "bundle.zip", tmp / "bag", bag_cfg,
                 elsewhere)


ROLE = {"signer.role-not-allowed"}
# (name, arguments, where it runs: "archive" or "elsewhere", exit, codes, trust_store.source, policy.source)
CASES: list[tuple[str, list[str], str, int, set[str], str, str]] = [
    ("trust-record-from-inside-the-verified-archive", ["verify", "{record}", "--trust", "{mine}"], "archive",
     3, ROLE, "option", "default"),
    ("trust-record-with-archive-option", ["verify", "{record}", "--trust", "{mine}", "--archive", "{archive}"],
     "elsewhere", 3, ROLE, "option", "default"),
    ("trust-bundle-from-inside-the-verified-archive", ["verify", "{bundle}", "--trust", "{mine}"], "archive",
     3, ROLE, "option", "default"),
    ("trust-bag-folder", ["verify", "{bag}", "--trust", "{mine}"], "archive", 3, ROLE, "option", "default"),
    ("trust-bag-carrying-its-own-configuration", ["verify", "{bag_cfg}", "--trust", "{mine}"], "archive",
     1, ROLE | {"bag.file-unexpected"}, "option", "default"),
    ("trust-store-with-its-own-configuration", ["verify", "{record}", "--trust", "{mine_cfg}"], "archive",
     0, set(), "option", "trust-store"),
    ("trust-store-is-another-archives-keys", ["verify", "{bundle}", "--trust", "{other_keys}"], "archive",
     0, set(), "option", "trust-store"),
    ("no-trust-inside-the-archive", ["verify", "{record}"], "archive", 0, set(), "archive", "archive"),
    ("no-trust-record-folder-from-outside", ["verify", "{record}"], "elsewhere", 0, set(), "archive",
     "archive"),
    ("no-trust-bundle-outside-any-archive", ["verify", "{bundle}"], "elsewhere", 3,
     {"trust.empty", "signer.unknown"}, "none", "default"),
    ("audit-with-trust", ["audit", "--trust", "{mine}"], "archive", 3, ROLE, "option", "default"),
    ("audit-without-trust", ["audit"], "archive", 0, set(), "archive", "archive"),
]


def _argv(setup: Setup, args: list[str]) -> list[str]:
    values = {
        "record": str(setup.archive / "records" / RID), "archive": str(setup.archive), "mine": str(setup.mine),
        "mine_cfg": str(setup.mine_cfg), "other_keys": str(setup.other_keys), "bundle": str(setup.bundle),
        "bag": str(setup.bag), "bag_cfg": str(setup.bag_with_config),
    }
    return [arg.format(**values) for arg in args]


@pytest.mark.parametrize(("name", "args", "where", "code", "codes", "trust_source", "policy_source"), CASES,
                         ids=[c[0] for c in CASES])
def test_the_trust_root_is_the_verifiers_alone(
    setup: Setup, name: str, args: list[str], where: str, code: int, codes: set[str], trust_source: str,
    policy_source: str,
) -> None:
    inside = where == "archive"
    env = {"PROVENANCE_ARCHIVE": str(setup.archive) if inside else ""}
    cwd = setup.archive if inside else setup.elsewhere
    result = setup.world.run(*_argv(setup, args), "--json", env=env, cwd=cwd)
    assert result.returncode == code, result.stdout + result.stderr
    document = result.json()
    report = document["reports"][0] if "reports" in document else document
    assert {p["code"] for p in report["problems"]} == codes
    assert report["trust_store"]["source"] == trust_source
    assert report["policy"]["source"] == policy_source
    if policy_source == "trust-store":
        assert Path(report["policy"]["path"]).parent in (setup.mine_cfg, setup.other_keys.parent)
    elif policy_source == "archive":
        assert Path(report["policy"]["path"]) == setup.archive / "provenance.toml"
    else:
        assert report["policy"]["path"] is None


def test_a_trust_store_with_a_broken_configuration_stops_the_verifier(setup: Setup) -> None:
    result = setup.world.run("verify", str(setup.bundle), "--trust", str(setup.bad_cfg), "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "archive.config-invalid")


def test_the_text_report_names_the_trust_store_and_the_policy(setup: Setup) -> None:
    result = setup.world.run("verify", str(setup.bundle), "--trust", str(setup.mine_cfg), cwd=setup.elsewhere)
    assert result.returncode == 0, result.stdout
    assert f"trust store {setup.mine_cfg} (--trust, 5 cards); roles policy: " \
           f"{setup.mine_cfg / 'provenance.toml'} (the trust store's)" in result.stdout


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("`", ""))


def test_the_rule_is_one_sentence_in_the_readme_and_in_verify_help(setup: Setup) -> None:
    readme = Path(__file__).parent.parent / "README.md"
    assert TRUST_RULE in _words(readme.read_text("utf-8"))
    help_text = setup.world.run("verify", "--help", env={"COLUMNS": "300"}).stdout
    assert TRUST_RULE in _words(help_text)
