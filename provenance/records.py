"""The record model and reading records: what a manifest holds (state, events, notes, files, the
catalogue), the choices the history actions take, a record as it was at a version, the difference between
two versions (word by word too), its history as W3C PROV, times as records write them, and search over the archive's derived
index (search is not verification: verify what you find). See ``docs/api.md``, "Records".
"""

from provenance import _lazy

TYPE_CHECKING = False

# module → its public names here ("public=internal" where the module calls it otherwise)
_EXPORTS = {
    "provenance.model.manifest": "State Event Note FileEntry",
    "provenance.model.catalogue": "Catalogue CATALOGUE_FIELDS",
    "provenance.model.choices": "Profile WrittenNoteKind AttachRole",
    "provenance.model.copies": "parse_copies",
    "provenance.model.timefmt": "utc_now parse_utc format_utc",
    "provenance.api": "record_at prov_document",
    "provenance.diff": "diff_versions word_hunks Segment",
    "provenance.services": "search_filters search_records index_status",
    "provenance.search": "SearchFilters=Filters SearchResults=Found list_records catalogue_rows",
}

__all__ = [
    "CATALOGUE_FIELDS",
    "AttachRole",
    "Catalogue",
    "Event",
    "FileEntry",
    "Note",
    "Profile",
    "SearchFilters",
    "SearchResults",
    "Segment",
    "State",
    "WrittenNoteKind",
    "catalogue_rows",
    "diff_versions",
    "format_utc",
    "index_status",
    "list_records",
    "parse_copies",
    "parse_utc",
    "prov_document",
    "record_at",
    "search_filters",
    "search_records",
    "utc_now",
    "word_hunks",
]

if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from provenance.api import prov_document, record_at
    from provenance.diff import Segment, diff_versions, word_hunks
    from provenance.model.catalogue import CATALOGUE_FIELDS, Catalogue
    from provenance.model.choices import AttachRole, Profile, WrittenNoteKind
    from provenance.model.copies import parse_copies
    from provenance.model.manifest import Event, FileEntry, Note, State
    from provenance.model.timefmt import format_utc, parse_utc, utc_now
    from provenance.search import Filters as SearchFilters
    from provenance.search import Found as SearchResults
    from provenance.search import catalogue_rows, list_records
    from provenance.services import index_status, search_filters, search_records
