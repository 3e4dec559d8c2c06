"""Chinese text cut into words, for search: one segmenter for every feature that reads citizens' words.

``Segmenter.segment(text)`` gives the words of a text (jieba's precise mode through its Rust
binding ``rjieba``), lower-cased, without punctuation and without the stop words of
rules/stop_words.csv; the synonyms of rules/synonyms.csv and the catalogue's service names and
keywords are added to the dictionary, so that they stay whole. ``index_words`` is the search-mode
cut (the words and the shorter words inside them: 住房公积金 → 住房, 公积金, 住房公积金) that
an index stores; ``query`` gives each word of a query with its synonyms, for an OR of ANDs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import rjieba

from hotline.domain.search_terms import SearchTerms

DICTIONARY_FREQ = 2000  # weight of the words we add: enough to keep 住房公积金 whole


def is_word(token: str) -> bool:
    """Letters and digits only (no punctuation, no spaces): safe inside any full-text query."""
    return bool(token) and all(char.isalnum() for char in token)


@dataclass(frozen=True)
class QueryWord:
    forms: tuple[str, ...]  # the word and its synonyms
    prefix: bool = False  # the last word of a text still being typed: match words starting with it


class Segmenter:
    def __init__(self, terms: SearchTerms, words: Iterable[str] = ()):
        self.terms = terms
        self._jieba = rjieba.Jieba()
        for word in (*terms.words, *words):
            if word and not word.isascii():
                self._jieba.add_word(word, DICTIONARY_FREQ, None)
        self._lock = threading.Lock()  # one dictionary, shared by the web's threads

    def _keep(self, tokens: Iterable[str]) -> list[str]:
        kept = []
        for token in tokens:
            word = token.strip().lower()
            if is_word(word) and word not in self.terms.stop_words:
                kept.append(word)
        return kept

    def segment(self, text: str) -> list[str]:
        """The words of ``text``, in order, stop words and punctuation left out."""
        with self._lock:
            tokens = self._jieba.cut(text or "")
        return self._keep(tokens)

    def index_words(self, text: str) -> list[str]:
        """The words an index keeps for ``text``: the search-mode cut, stop words left out."""
        with self._lock:
            tokens = self._jieba.cut_for_search(text or "")
        return self._keep(tokens)

    def query(self, text: str, typing: bool = False) -> list[QueryWord]:
        """Each distinct word of a query with its synonyms; ``typing``: the text is still being typed,
        so its last word may be unfinished (公积金提 → 公积金, 提…)."""
        words = list(dict.fromkeys(self.segment(text)))
        unfinished = typing and bool(text) and text[-1].isalnum() and bool(words)
        found = [QueryWord(self.terms.synonyms(word)) for word in words]
        if unfinished:
            found[-1] = QueryWord(found[-1].forms, prefix=True)
        return found
