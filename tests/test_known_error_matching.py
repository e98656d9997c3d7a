"""The matching rule of Check Known Error (domain/known_error.py), without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from troubleflow.domain.known_error import FILLER_WORDS, STOP_WORDS, matches, stem_of, terms

KNOWN = terms("Landline has no dial-tone after firmware upgrade")
WORDS = st.sampled_from(["dial", "tone", "landline", "firmware", "upgrade", "the", "no", "on", "my", "phone"])


def test_word_forms_meet_on_one_stem() -> None:
    for forms in (
        ("upgrade", "upgraded", "upgrading", "upgrades"),
        ("tone", "tones"),
        ("connection", "connections", "connected", "connect"),
        ("drop", "drops", "dropped", "dropping"),
        ("battery", "batteries"),
        ("configure", "configuration", "configured"),
    ):
        assert len({stem_of(f) for f in forms}) == 1, forms


def test_stop_words_and_helpdesk_filler_are_not_terms() -> None:
    assert terms("Please help, the customer has a problem since today with no internet") == ("internet",)


@given(st.lists(WORDS, min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_word_order_never_changes_the_outcome(words: list[str], rng: object) -> None:
    shuffled = list(words)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]

    assert matches(terms(" ".join(words)), KNOWN) == matches(terms(" ".join(shuffled)), KNOWN)


@given(st.text(max_size=200))
def test_terms_are_words_without_stop_words_and_bounded(text: str) -> None:
    found = terms(text)

    assert len(found) <= 32 and len(set(found)) == len(found)
    assert all(t.isalnum() and t not in STOP_WORDS and t not in FILLER_WORDS for t in found)


def test_one_shared_term_is_never_a_match() -> None:
    assert matches(terms("landline"), KNOWN) is None
    assert matches(terms("landline dial"), KNOWN) == 1.0
