"""The history exported as W3C PROV-JSON: one version entity and one activity per event, all linked."""

from __future__ import annotations

from provenance.manifest_io import read_manifest
from provenance.prov import to_prov_json
from tests.conftest import World


def test_prov_json_links_every_event(lived: World) -> None:
    manifest = read_manifest(lived.archive.record_dir("telegram-23256"))
    doc = to_prov_json(manifest)
    n = len(manifest.events)
    assert len(doc["entity"]) == n
    assert len(doc["activity"]) == n
    assert len(doc["wasGeneratedBy"]) == n
    assert len(doc["wasAssociatedWith"]) == n
    assert len(doc["wasDerivedFrom"]) == n - 1
    for relation in ("wasGeneratedBy", "used", "wasDerivedFrom", "wasAssociatedWith"):
        for rel in doc[relation].values():
            for name, ref in rel.items():
                if name in ("prov:entity", "prov:usedEntity", "prov:generatedEntity"):
                    assert ref in doc["entity"]
                if name == "prov:activity":
                    assert ref in doc["activity"]
                if name == "prov:agent":
                    assert ref in doc["agent"]
    release = [a for a in doc["activity"].values() if a["provenance:eventType"] == "release"]
    assert release and release[0]["prov:type"]["$"].endswith("/dis")


def test_log_prov_through_the_cli(lived: World) -> None:
    result = lived.run("log", "telegram-23256", "--prov")
    assert result.returncode == 0
    assert "wasGeneratedBy" in result.json()
