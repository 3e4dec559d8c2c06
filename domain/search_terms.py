"""Words the Chinese search treats specially, as data (rules/synonyms.csv, rules/stop_words.csv).

Synonyms are groups of words a caller uses for the same thing (公积金 = 住房公积金, 社保 = 社会保险);
a search for any one of them finds text that uses another. Stop words (怎么, 请问, 一下 …) carry
no meaning for a search and are dropped from both the text and the query.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SearchTerms:
    synonym_groups: tuple[tuple[str, ...], ...] = ()
    stop_words: frozenset[str] = frozenset()
    _by_word: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_word: dict[str, tuple[str, ...]] = {}
        for group in self.synonym_groups:
            for word in group:
                # A word in two groups joins both: its synonyms are every word of either.
                merged = tuple(dict.fromkeys((*by_word.get(word, ()), *group)))
                by_word[word] = merged
        object.__setattr__(self, "_by_word", by_word)

    def synonyms(self, word: str) -> tuple[str, ...]:
        """The word and every word the rules make it equal to (the word itself first)."""
        return tuple(dict.fromkeys((word, *self._by_word.get(word, ()))))

    @property
    def words(self) -> tuple[str, ...]:
        """Every word the synonym groups name: the segmenter keeps each one whole."""
        return tuple(dict.fromkeys(word for group in self.synonym_groups for word in group))
