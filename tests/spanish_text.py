"""Reading a page, a fragment or a PDF's text as a Spanish reader: what in it is English,
and which numbers are written with a decimal point.

Two detectors, because English arrives two ways: a source string the catalog translates
but the page shows untranslated (its sentences come from the catalog itself), and a
message built outside the catalog (an f-string, a ``str(error)``), which no catalog
knows; that one is caught by its English function words.
"""

import re
from functools import cache
from html import unescape
from pathlib import Path

from babel.messages.pofile import read_po

from smarketing.present.labels import FIELDS

CATALOG = Path(__file__).resolve().parents[1] / "translations/es/LC_MESSAGES/messages.po"
# A number with a decimal point: "65.1 %" or "2.5 h"; "12.000" (Spanish thousands) is not one.
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d{1,2}(?![\d.])")
# Words English sentences cannot do without and Spanish never uses ("a", "no", "he" are Spanish).
FUNCTION_WORDS = frozenset(
    "the is are was were be been must should cannot can't not with this that which has have "
    "will would of for from and or your you it its there their than already only to by at on "
    "an any each every does doesn't isn't nothing".split()
)
WORD = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ']+")
IDENTIFIER = re.compile(r"[\w-]*\d[\w-]*")
WINDOW = 4  # two of four neighbouring words being English function words reads as English
# A form field's key where its label belongs: "month: ...", "slice_by: ..." (smarketing.present.labels);
# keys that are also Spanish words ("persona") or too short to tell are left out.
_KEYS = "|".join(k for k in sorted(FIELDS, key=len, reverse=True) if k not in ("id", "es", "en", "persona"))
RAW_FIELD = re.compile(rf"(?<![\w-])({_KEYS}):")


@cache
def english_sentences() -> tuple[str, ...]:
    """Source strings of three words or more whose Spanish differs, placeholders cut away."""
    with CATALOG.open("rb") as file:
        catalog = read_po(file)
    found = set()
    for message in catalog:
        if not message.id or not message.string or isinstance(message.id, tuple):
            continue
        for piece in re.split(r"%\(\w+\)[sdfr]|%[sd]|\{\w*\}", message.id):
            piece = piece.strip(" .:,;·()")
            if len(piece.split()) >= 3 and piece not in message.string:
                found.add(piece)
    return tuple(sorted(found, key=len, reverse=True))


def english_phrases(text: str) -> list[str]:
    """Runs of words where English function words crowd together: "must be one of".

    Tokens with a digit are identifiers, not words: a lead id such as
    ``4a0856a1-6739-41be-be71-…`` would otherwise read as "a a be be"."""
    words = WORD.findall(IDENTIFIER.sub(" ", text))
    found, i = [], 0
    while i < len(words):
        window = words[i : i + WINDOW]
        if sum(w.lower() in FUNCTION_WORDS for w in window) >= 2:
            found.append(" ".join(window))
            i += WINDOW
        else:
            i += 1
    return found


def page_text(html: str) -> str:
    """What a reader sees of an HTML page or fragment."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<option[^>]*>.*?</option>", " ", html, flags=re.S)  # keys people pick by label
    html = re.sub(r"<code>.*?</code>", " ", html, flags=re.S)  # identifiers a machine reads (API scopes)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def not_spanish(text: str) -> list[str]:
    """The English, the raw field keys and the decimal points in a reader's text; empty
    when it reads Spanish."""
    found = [s for s in english_sentences() if s in text]
    return found + english_phrases(text) + RAW_FIELD.findall(text) + DECIMAL_POINT.findall(text)
