"""Lead sources as the agreement names them: a key, a label in each language and
the team whose work it credits (the marketing-revenue SLA).

A value typed in a form, an import or the API is matched to a known source by
its key or by either label, ignoring case, accents, spacing and punctuation
("Eventos", "eventos", "EVENTS", "Eventos " are all ``events``). A value that
matches nothing becomes a *new source*: the lead keeps it as a normalised key
(``Webinar X`` → ``webinar_x``) and a manager accepts it (gives it labels) or
merges it into a known source on the vocabulary page.

Campaigns stay free text, but a typed campaign that matches a known one the
same way is written as the known one.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.vocabulary import Team, sourced_by

LANGUAGES = ("es", "en")
KEY_MAX = 100


@dataclass(frozen=True)
class SourceWords:
    es: str
    en: str
    sourced_by: str

    def label(self, language: str) -> str:
        return self.en if language == "en" else self.es


def _builtin(es: str, en: str, key: str) -> SourceWords:
    return SourceWords(es, en, sourced_by(key).value)


# The sources the agreement knows from the start (those the app and its ready-made
# import mappings write): the demo's, the Olist data set's origins, and "unknown".
BUILT_IN: dict[str, SourceWords] = {
    key: _builtin(es, en, key)
    for key, es, en in (
        ("organic_search", "Búsqueda orgánica", "Organic search"),
        ("paid_search", "Búsqueda de pago", "Paid search"),
        ("social", "Redes sociales", "Social"),
        ("email", "Correo", "E-mail"),
        ("referral", "Recomendación", "Referral"),
        ("events", "Eventos", "Events"),
        ("outbound", "Outbound", "Outbound"),
        ("sales_referral", "Recomendación de ventas", "Sales referral"),
        ("direct_traffic", "Tráfico directo", "Direct traffic"),
        ("display", "Publicidad display", "Display advertising"),
        ("other_publicities", "Otra publicidad", "Other advertising"),
        ("other", "Otro", "Other"),
        ("unknown", "Desconocido", "Unknown"),
    )
}


def normalise(value: object) -> str:
    """The comparable form of a source or campaign: no accents, case folded, runs
    of spaces and punctuation as one ``_``, at most ``KEY_MAX`` characters."""
    text = unicodedata.normalize("NFKD", str(value or ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"[\W_]+", "_", text).strip("_")[:KEY_MAX]


@dataclass(frozen=True)
class Resolved:
    key: str
    sourced_by: str
    known: bool


class SourceResolver:
    """Typed values to the vocabulary's keys; pure, built from the vocabulary's state."""

    def __init__(
        self,
        accepted: Mapping[str, Mapping[str, str]] | None = None,
        merged: Mapping[str, str] | None = None,
        campaigns: Iterable[str] = (),
    ) -> None:
        self.words: dict[str, SourceWords] = dict(BUILT_IN)
        for key, given in (accepted or {}).items():
            self.words[key] = SourceWords(
                given.get("es", key), given.get("en", key), given.get("sourced_by", Team.MARKETING.value)
            )
        self.merged = dict(merged or {})
        self._index: dict[str, str] = {}
        for key, words in self.words.items():  # labels first: a key wins over another's label
            for text in (words.es, words.en):
                self._index.setdefault(normalise(text), key)
        for key in self.words:
            self._index[normalise(key)] = key
        self._campaigns: dict[str, str] = {}
        for campaign in campaigns:
            if campaign:
                self._campaigns.setdefault(normalise(campaign), campaign)

    def source(self, value: object) -> Resolved:
        """The known source ``value`` names (following merges), or a new normalised key."""
        typed = normalise(value)
        key = self._index.get(typed) or self.merged.get(typed) or typed
        key = self.merged.get(key, key)
        words = self.words.get(key)
        if words is None:
            return Resolved(key, sourced_by(key).value, False)
        return Resolved(key, words.sourced_by, True)

    def campaign(self, value: object) -> str:
        """A known campaign's own spelling when ``value`` matches it; else as typed (trimmed)."""
        typed = str(value or "").strip()
        return self._campaigns.get(normalise(typed), typed) if typed else ""
