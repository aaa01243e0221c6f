"""Sources of the shared vocabulary: matching typed values, and the vocabulary's
accept / merge / campaign-label events (domain.sources, domain.vocabulary_book)."""

import pytest

from domain.errors import InvalidInput
from domain.sources import BUILT_IN, SourceResolver, normalise
from domain.vocabulary import sourced_by
from domain.vocabulary_book import Vocabulary, vocabulary_change


@pytest.mark.parametrize("typed", ["Eventos", "eventos", "EVENTS", "Eventos ", " events", "Events"])
def test_a_typed_source_matches_by_key_or_label_ignoring_case_and_spaces(typed: str) -> None:
    resolved = SourceResolver().source(typed)
    assert (resolved.key, resolved.known, resolved.sourced_by) == ("events", True, "marketing")


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Búsqueda orgánica", "organic_search"),
        ("busqueda ORGANICA", "organic_search"),
        ("Paid-Search", "paid_search"),
    ],
)
def test_accents_and_punctuation_are_ignored(typed: str, key: str) -> None:
    assert SourceResolver().source(typed).key == key


def test_an_unknown_source_is_kept_as_a_new_normalised_key() -> None:
    resolved = SourceResolver().source("Webinar X")
    assert (resolved.key, resolved.known, resolved.sourced_by) == ("webinar_x", False, "marketing")
    assert normalise("  Señal–Directa!! ") == "senal_directa"


def test_built_in_sources_keep_the_team_rule() -> None:
    for key, words in BUILT_IN.items():
        assert words.sourced_by == sourced_by(key).value and words.es and words.en
    assert SourceResolver().source("Outbound").sourced_by == "sales"


def test_accepted_and_merged_sources_resolve() -> None:
    resolver = SourceResolver(
        accepted={"webinar_x": {"es": "Seminario web X", "en": "Webinar X", "sourced_by": "sales"}},
        merged={"ferias": "events"},
        campaigns=["feria-digital"],
    )
    assert resolver.source("seminario web x").key == "webinar_x"
    assert resolver.source("webinar x").sourced_by == "sales"
    assert resolver.source("Ferias").key == "events"  # a merged source is typed as its target
    assert resolver.campaign("Feria Digital") == "feria-digital"
    assert resolver.campaign("Nueva campaña ") == "Nueva campaña"


def test_accept_and_merge_are_events_with_rules() -> None:
    book = Vocabulary.start()
    book.accept_source("Webinar X", {"es": "Seminario web X", "en": "Webinar X"}, "sales", "new channel")
    assert book.sources["webinar_x"] == {"es": "Seminario web X", "en": "Webinar X", "sourced_by": "sales"}
    with pytest.raises(InvalidInput):
        book.accept_source("events", {"es": "a", "en": "b"})  # already known
    with pytest.raises(InvalidInput):
        book.accept_source("nuevo", {"es": "", "en": "b"})  # both labels required
    with pytest.raises(InvalidInput):
        book.accept_source("nuevo", {"es": "a", "en": "b"}, "finance")
    book.merge_source("Ferias", "events", "same thing")
    assert book.merged == {"ferias": "events"}
    with pytest.raises(InvalidInput):
        book.merge_source("ferias", "social")  # merged already
    with pytest.raises(InvalidInput):
        book.merge_source("paid_search", "events")  # a known source is not merged away
    with pytest.raises(InvalidInput):
        book.merge_source("otra", "nowhere")  # only into a known source
    book.label_campaign("feria-digital", {"es": "Feria digital", "en": "Digital fair"})
    events = book.collect_events()
    changes = [vocabulary_change(e) for e in events[1:]]
    assert [c["kind"] for c in changes if c] == ["source", "source_merge", "campaign"]
    assert changes[1]["value"] == {"into": "events"}
