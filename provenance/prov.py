"""The custody chain and edit history as W3C PROV (PROV-JSON serialisation, W3C member submission 2013).

Each version of the record (the state after an event) is a ``prov:Entity`` named by its state digest;
each event is a ``prov:Activity`` typed with its PREMIS event type; each signer is a ``prov:Agent`` named
by key id. Version n ``wasGeneratedBy`` event n, ``wasDerivedFrom`` version n-1, and the event ``used``
version n-1 and ``wasAssociatedWith`` its signer in the role it signed as.
"""

from __future__ import annotations

from typing import Any

from provenance.model.events import PREMIS_EVENT_TYPES
from provenance.model.manifest import Manifest


def to_prov_json(manifest: Manifest) -> dict[str, Any]:
    """A PROV-JSON document for ``manifest``'s whole history."""
    entity: dict[str, Any] = {}
    activity: dict[str, Any] = {}
    agent: dict[str, Any] = {}
    generated: dict[str, Any] = {}
    used: dict[str, Any] = {}
    derived: dict[str, Any] = {}
    associated: dict[str, Any] = {}
    previous: str | None = None
    for event in manifest.events:
        version = f"record:{manifest.record}/v{event.seq}"
        act = f"event:{manifest.record}/{event.seq}"
        who = f"key:{event.key.split(':', 1)[1]}"
        entity[version] = {
            "prov:type": "provenance:RecordVersion",
            "provenance:stateDigest": event.state_digest,
            "prov:label": f"{manifest.record} after event {event.seq}",
        }
        activity[act] = {
            "prov:type": {"$": PREMIS_EVENT_TYPES[event.type][1], "type": "xsd:anyURI"},
            "prov:label": event.summary,
            "prov:startTime": event.time,
            "prov:endTime": event.time,
            "provenance:eventType": event.type.value,
        }
        agent.setdefault(
            who, {"prov:type": "prov:Person", "prov:label": event.agent, "provenance:keyId": event.key}
        )
        generated[f"_:gen{event.seq}"] = {
            "prov:entity": version,
            "prov:activity": act,
            "prov:time": event.time,
        }
        associated[f"_:assoc{event.seq}"] = {
            "prov:activity": act,
            "prov:agent": who,
            "prov:role": event.role.value,
        }
        if previous is not None:
            used[f"_:use{event.seq}"] = {"prov:activity": act, "prov:entity": previous}
            derived[f"_:der{event.seq}"] = {
                "prov:generatedEntity": version,
                "prov:usedEntity": previous,
                "prov:activity": act,
            }
        previous = version
    return {
        "prefix": {
            "provenance": "https://provenance.example/ns#",
            "record": "https://provenance.example/record/",
            "event": "https://provenance.example/event/",
            "key": "https://provenance.example/key/ed25519/",
            "premis": "http://id.loc.gov/vocabulary/preservation/eventType/",
        },
        "entity": entity,
        "activity": activity,
        "agent": agent,
        "wasGeneratedBy": generated,
        "used": used,
        "wasDerivedFrom": derived,
        "wasAssociatedWith": associated,
    }
