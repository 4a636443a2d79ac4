"""The history exported as W3C PROV-JSON: one version entity and one activity per event, all linked."""

from __future__ import annotations

import pytest

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
    assert release and release[0]["prov:type"] == {"$": "premis:dis", "type": "prov:QUALIFIED_NAME"}


def test_log_prov_through_the_cli(lived: World) -> None:
    result = lived.run("log", "telegram-23256", "--prov")
    assert result.returncode == 0
    assert "wasGeneratedBy" in result.json()


# --- issue 17, item 7: read back by the W3C PROV reference library (the `prov` package) --------------------


def _read_back(text: str):  # type: ignore[no-untyped-def]
    prov_model = pytest.importorskip("prov.model", reason="the prov package (test extra) reads PROV-JSON back")
    return prov_model, prov_model.ProvDocument.deserialize(content=text, format="json")


def test_prov_tools_read_the_types_as_qualified_names(lived: World) -> None:
    result = lived.run("log", "telegram-23256", "--prov")
    assert result.returncode == 0, result.stderr
    prov_model, document = _read_back(result.stdout)
    from prov.constants import PROV_TYPE

    agents = list(document.get_records(prov_model.ProvAgent))
    entities = list(document.get_records(prov_model.ProvEntity))
    activities = list(document.get_records(prov_model.ProvActivity))
    assert agents and entities and activities
    person = prov_model.PROV["Person"]
    for agent in agents:
        types = agent.get_attribute(PROV_TYPE)
        assert types == {person}, types  # a QualifiedName equal to prov:Person, not the string "prov:Person"
        assert all(isinstance(t, prov_model.QualifiedName) for t in types)
    for entity in entities:
        (kind,) = entity.get_attribute(PROV_TYPE)
        assert isinstance(kind, prov_model.QualifiedName) and kind.uri == "https://provenance.example/ns#RecordVersion"
    uris = {next(iter(a.get_attribute(PROV_TYPE))).uri for a in activities}
    assert "http://id.loc.gov/vocabulary/preservation/eventType/dis" in uris  # PREMIS, resolvable
    assert "https://provenance.example/ns/eventType/annotation" in uris  # local: a proper URI too
    for association in document.get_records(prov_model.ProvAssociation):
        (role,) = association.get_attribute(prov_model.PROV_ROLE)
        assert isinstance(role, prov_model.QualifiedName) and role.uri.startswith("https://provenance.example/ns/role/")


def test_agent_labels_come_from_the_trust_store(lived: World) -> None:
    from tests.adversarial.forge import keys_of, load, rechain, save

    doc = load(lived)
    doc["events"][1]["agent"] = "Someone Else"  # the event claims another name for the translator's key
    save(lived, rechain(doc, keys=keys_of(lived), start=1))
    result = lived.run("log", "telegram-23256", "--prov")
    prov_model, document = _read_back(result.stdout)
    labels = {}
    for agent in document.get_records(prov_model.ProvAgent):
        (label,) = agent.get_attribute(prov_model.PROV_LABEL)
        labels[str(next(iter(agent.get_attribute("provenance:keyId"))))] = str(label)
    translator = lived.signers["translator"].card
    assert labels[translator.id] == translator.name
    claimed = result.json()["agent"][f"key:{translator.id[8:]}"]
    assert claimed["provenance:claimedName"] == "Someone Else" and claimed["provenance:trusted"] is True
