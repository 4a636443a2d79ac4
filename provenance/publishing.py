"""A record leaving or entering the archive in other forms than the bag of :func:`provenance.export`:
the formats of preservation systems (``EXPORTERS``), readers' editions made from what verifies now
(``edition``, ``EDITIONS``), an OCFL object imported, a W3C Web Annotation collection read strictly. See
``docs/api.md``, "Publishing".
"""

from provenance import _lazy

TYPE_CHECKING = False

# module → its public names here ("public=internal" where the module calls it otherwise)
_EXPORTS = {
    "provenance.publish": "edition Edition EXPORTERS EDITIONS import_ocfl",
    "provenance.api": "read_annotations",
}

__all__ = [
    "EDITIONS",
    "EXPORTERS",
    "Edition",
    "edition",
    "import_ocfl",
    "read_annotations",
]

if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from provenance.api import read_annotations
    from provenance.publish import EDITIONS, EXPORTERS, Edition, edition, import_ocfl
