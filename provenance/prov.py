"""The custody chain and edit history as W3C PROV (PROV-JSON serialisation, W3C member submission 2013).

Each version of the record (the state after an event) is a ``prov:Entity`` named by its state digest;
each event is a ``prov:Activity`` typed with its PREMIS event type; each signer is a ``prov:Agent`` named
by key id. Version n ``wasGeneratedBy`` event n, ``wasDerivedFrom`` version n-1, and the event ``used``
version n-1 and ``wasAssociatedWith`` its signer in the role it signed as.

Types are typed values, as PROV tools read them: ``{"$": "prov:Person", "type": "prov:QUALIFIED_NAME"}``
(a bare string ``"prov:Person"`` is only a string to them), local types and roles are qualified names in
namespaces declared in ``prefix``, and an agent's label is the name the trust store gives its key (the
name the event claims is kept beside it when it differs, or when the key is not trusted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provenance.model.events import LOCAL_BASE, PREMIS_BASE, PREMIS_EVENT_TYPES
from provenance.model.manifest import Manifest

if TYPE_CHECKING:
    from provenance.keys import TrustStore

NAMESPACE = "https://provenance.example/ns#"
PREFIXES = {
    "provenance": NAMESPACE,
    "record": "https://provenance.example/record/",
    "event": "https://provenance.example/event/",
    "key": "https://provenance.example/key/ed25519/",
    "premis": PREMIS_BASE,
    "eventtype": "https://provenance.example/ns/eventType/",
    "role": "https://provenance.example/ns/role/",
}


def qualified(name: str) -> dict[str, str]:
    """A PROV-JSON typed value: the qualified name ``name`` (its prefix declared in ``PREFIXES`` or prov)."""
    return {"$": name, "type": "prov:QUALIFIED_NAME"}


def _event_type_name(uri: str) -> str:
    if uri.startswith(PREMIS_BASE):
        return "premis:" + uri[len(PREMIS_BASE) :]
    return "eventtype:" + uri.removeprefix(LOCAL_BASE)


def to_prov_json(manifest: Manifest, trust: TrustStore | None = None) -> dict[str, Any]:
    """A PROV-JSON document for ``manifest``'s whole history; agent labels from ``trust`` when given."""
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
            "prov:type": qualified("provenance:RecordVersion"),
            "provenance:stateDigest": event.state_digest,
            "prov:label": f"{manifest.record} after event {event.seq}",
        }
        activity[act] = {
            "prov:type": qualified(_event_type_name(PREMIS_EVENT_TYPES[event.type][1])),
            "prov:label": event.summary,
            "prov:startTime": event.time,
            "prov:endTime": event.time,
            "provenance:eventType": event.type.value,
        }
        if who not in agent:
            agent[who] = _agent(event.agent, event.key, trust)
        generated[f"_:gen{event.seq}"] = {
            "prov:entity": version,
            "prov:activity": act,
            "prov:time": event.time,
        }
        associated[f"_:assoc{event.seq}"] = {
            "prov:activity": act,
            "prov:agent": who,
            "prov:role": qualified(f"role:{event.role.value}"),
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
        "prefix": dict(PREFIXES),
        "entity": entity,
        "activity": activity,
        "agent": agent,
        "wasGeneratedBy": generated,
        "used": used,
        "wasDerivedFrom": derived,
        "wasAssociatedWith": associated,
    }


def _agent(claimed: str, key_id: str, trust: TrustStore | None) -> dict[str, Any]:
    """A signer: a person named as the trust store names its key (else as the event claims, marked so)."""
    card = trust.get(key_id) if trust is not None else None
    described: dict[str, Any] = {
        "prov:type": qualified("prov:Person"),
        "prov:label": card.name if card is not None else claimed,
        "provenance:keyId": key_id,
        "provenance:trusted": card is not None,
    }
    if card is None or card.name != claimed:
        described["provenance:claimedName"] = claimed
    return described
