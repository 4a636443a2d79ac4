"""Writing XML with the standard library: namespaces, safe text, deterministic bytes, atomic files."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

PREMIS_NS = "http://www.loc.gov/premis/v3"
METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DC_NS = "http://purl.org/dc/elements/1.1/"
PREMIS_XSD = "http://www.loc.gov/standards/premis/v3/premis.xsd"
METS_XSD = "http://www.loc.gov/standards/mets/mets.xsd"

for _prefix, _uri in (
    ("premis", PREMIS_NS),
    ("mets", METS_NS),
    ("xlink", XLINK_NS),
    ("xsi", XSI_NS),
    ("dc", DC_NS),
):
    ET.register_namespace(_prefix, _uri)

# XML 1.0 section 2.2: tab, newline, carriage return and the ranges below; nothing else may appear, not even
# escaped. A C0 control or a lone surrogate in a note is written as a visible \uXXXX instead (the signed
# manifest, which travels with every export, keeps the exact text).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold written as ``\\uXXXX``."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04X}", text)


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def sub(parent: ET.Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element; ``text`` made safe for XML; attributes given as ``name`` or ``{ns}name``."""
    element = ET.SubElement(parent, q(ns, tag), {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def to_bytes(root: ET.Element) -> bytes:
    """The document as UTF-8 with a declaration, indented: the same tree gives the same bytes."""
    ET.indent(root, space="  ")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
