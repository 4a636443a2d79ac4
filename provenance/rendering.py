"""Showing what the library returns, safely, as a front end of your own (the command line's does):
record content is hostile until verified, so every control, bidi or invisible character is escaped before it
reaches a terminal or a JSON document; an error line's length is bounded whatever it quotes; a validation
error's location becomes the field name a message shows. See ``docs/api.md``, "Rendering".
"""

from provenance import _lazy

TYPE_CHECKING = False

# module → its public names here ("public=internal" where the module calls it otherwise)
_EXPORTS = {
    "provenance.safetext": "printable json_safe",
    "provenance.errors": "bound_message bound_details",
    "provenance.model.locations": "field_name",
}

__all__ = [
    "bound_details",
    "bound_message",
    "field_name",
    "json_safe",
    "printable",
]

if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from provenance.errors import bound_details, bound_message
    from provenance.model.locations import field_name
    from provenance.safetext import json_safe, printable
