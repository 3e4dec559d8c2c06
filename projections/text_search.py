"""Chinese text cut into words, for everything that reads citizens' words: one small interface,
``Segmenter.segment(text) -> list[str]``: the words of a text, in order, each in its standard form
(rules/synonyms.csv), without stop words (rules/stop_words.csv), punctuation, numbers or single
characters.

The tokenizer is jieba's algorithm through its maintained Rust binding ``rjieba`` (its dictionary
ships inside the package: nothing is loaded from the internet); the synonyms' words, and any words
a caller adds (the catalogue's service names and keywords), are put in its dictionary so that a
compound such as 住房公积金 stays one word.

For search, ``index_words`` is the search-mode cut an index stores (a long word and the shorter
words inside it: 住房公积金 → 住房, 公积金, 住房公积金), and ``query`` gives each word of a query
with every word the synonyms make it equal to, so that editing the synonyms needs no rebuild of
an index.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import rjieba

from hotline.domain.terms import Terms

DICTIONARY_FREQ = 2000  # weight of the words we add: enough to keep 住房公积金 whole
# A word worth keeping: at least two characters, not only digits, latin letters or punctuation.
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"^[a-z][a-z0-9\-]{2,}$")


def is_word(token: str) -> bool:
    """Letters and digits only (no punctuation, no spaces): safe inside any full-text query."""
    return bool(token) and all(char.isalnum() for char in token)


@dataclass(frozen=True)
class QueryWord:
    forms: tuple[str, ...]  # the word and its synonyms
    prefix: bool = False  # the last word of a text still being typed: match words starting with it


class Segmenter:
    def __init__(self, terms: Terms, words: Iterable[str] = ()):
        self.terms = terms
        self._jieba = rjieba.Jieba()
        for word in (*sorted(terms.dictionary), *words):
            if word and not word.isascii():
                self._jieba.add_word(word, DICTIONARY_FREQ, None)
        self._groups: dict[str, tuple[str, ...]] = {}
        for variant, standard in terms.synonyms.items():
            self._groups[standard] = (*self._groups.get(standard, (standard,)), variant)
        self._lock = threading.Lock()  # one dictionary, shared by the web's threads

    def _meaningful(self, token: str) -> str | None:
        word = token.strip().lower()
        if len(word) < 2 or not is_word(word) or not (_HAS_CJK.search(word) or _LATIN_WORD.match(word)):
            return None
        return None if word in self.terms.stop_words else word

    def _cut(self, text: str, search: bool = False) -> list[str]:
        with self._lock:
            return self._jieba.cut_for_search(text or "") if search else self._jieba.cut(text or "")

    def segment(self, text: str) -> list[str]:
        """The words of ``text`` that carry meaning, in order, in their standard form."""
        words = (self._meaningful(token) for token in self._cut(text))
        return [self.terms.standard(word) for word in words if word]

    def distinct(self, text: str) -> list[str]:
        """The distinct words of ``text``, in the order they first appear."""
        return list(dict.fromkeys(self.segment(text)))

    def index_words(self, text: str) -> list[str]:
        """The words an index keeps for ``text``: the search-mode cut, as written (not standardised)."""
        return [word for word in (self._meaningful(token) for token in self._cut(text, search=True)) if word]

    def synonyms(self, word: str) -> tuple[str, ...]:
        """The word and every word the synonyms make equal to it."""
        standard = self.terms.standard(word)
        return tuple(dict.fromkeys((word, *self._groups.get(standard, (standard,)))))

    def query(self, text: str, typing: bool = False) -> list[QueryWord]:
        """Each distinct word of a query with its synonyms; ``typing``: the text is still being typed,
        so its last word may be unfinished (公积金提 → 公积金, 提…), even a single character."""
        tokens = [token.strip().lower() for token in self._cut(text)]
        tokens = [token for token in tokens if token]
        last = tokens[-1] if typing and tokens and text and text[-1].isalnum() else None
        words = [word for word in (self._meaningful(token) for token in tokens) if word]
        found = [QueryWord(self.synonyms(word)) for word in dict.fromkeys(words)]
        if last is not None and is_word(last) and last not in self.terms.stop_words:
            found = [word for word in found if word.forms[0] != last]
            found.append(QueryWord(self.synonyms(last), prefix=True))
        return found
