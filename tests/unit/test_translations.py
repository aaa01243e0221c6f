"""The Spanish catalog covers every string the code and templates show.

A string added without a translation reads in English on the Spanish pages (the
default language); this catches it before a reader does. `make messages` brings
the catalog up to date; the translation itself is then written by hand.
"""

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"
# As `make messages` extracts them (Makefile, babel.cfg).
SOURCES = ("domain", "smarketing", "projections", "templates")
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
# Errors shown to people carry a catalog template: marked with N_, or given straight to
# an error class (a template someone forgot to mark is still extracted).
ERRORS = ("IllegalTransition", "LeadNotFound", "DuplicateEmail", "StaleLead", "AgreementConflict")
ERRORS += ("ReportError", "ReportNotReady", "IntegrationError")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None, "InvalidInput": (2,)}
KEYWORDS["lazy_pgettext"] = ((1, "c"), 2)  # a word whose Spanish depends on where it is shown
KEYWORDS |= dict.fromkeys(ERRORS)


@pytest.fixture(scope="module")
def spanish() -> Catalog:
    with CATALOG.open("rb") as po:
        return read_po(po)


def shown_strings() -> set[tuple[str, str | None]]:
    """(message, context) pairs, the context None for most."""
    found = set()
    for source in SOURCES:
        for _filename, _line, message, _comments, context in extract_from_dir(
            ROOT / source, METHODS, keywords=KEYWORDS
        ):
            found.add((message[0] if isinstance(message, tuple) else message, context))
    return found


def test_every_shown_string_is_in_the_catalog(spanish: Catalog) -> None:
    missing = sorted(s for s, context in shown_strings() if spanish.get(s, context=context) is None)
    assert not missing, f"run `make messages` and translate: {missing[:10]}"


def test_every_catalog_entry_is_translated(spanish: Catalog) -> None:
    untranslated = [m.id for m in spanish if m.id and (not m.string or m.fuzzy)]
    assert not untranslated, f"no Spanish for: {untranslated[:10]}"


# Words Spanish marketing and sales teams use as they are, and formats with no words.
SAME_IN_SPANISH = {
    "%(field)s: %(message)s", "%(n)s MQLs", "%(n)s d", "%(n)s h", "Auditor", "Buyer persona",
    "Buyer personas", "Error", "Error: %(message)s", "Landing page", "Lead", "Lead scoring", "Leads",
    "MQL", "MQLs", "Marketing", "Outbound", "SQL", "SQLs", "Total", "Web", "Webinar", "no", "persona",
}  # fmt: skip


def test_a_translation_copied_from_english_is_a_known_loanword(spanish: Catalog) -> None:
    """An entry whose Spanish is its English source slipped through ("scorecard (CSV)" did)."""
    copied = sorted(m.id for m in spanish if m.id and not isinstance(m.id, tuple) and m.string == m.id)
    assert [c for c in copied if c not in SAME_IN_SPANISH] == []
