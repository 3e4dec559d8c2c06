"""The words the text analysis works with, as data (rules/stop_words.csv, rules/synonyms.csv).

The segmenter (``projections/text_search.py``) cuts a description into words; these rules say which
words carry no meaning of their own (停用词) and which words say the same thing (同义词: every
variant is counted as its standard word). Hotspot detection, the similarity of cases and the
knowledge-base search all read the same two files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.domain.errors import InvalidInput


@dataclass(frozen=True)
class Terms:
    stop_words: frozenset[str] = field(default_factory=frozenset)
    synonyms: dict[str, str] = field(default_factory=dict)  # variant → its standard word

    def __post_init__(self) -> None:
        for variant, standard in self.synonyms.items():
            if standard in self.synonyms:
                raise InvalidInput(f"同义词“{variant}”的标准词“{standard}”本身又是另一个词的同义词")
            if variant in self.stop_words or standard in self.stop_words:
                raise InvalidInput(f"“{variant}”“{standard}”不能同时是同义词和停用词")

    def standard(self, word: str) -> str:
        return self.synonyms.get(word, word)

    @property
    def dictionary(self) -> frozenset[str]:
        """Words the segmenter must keep whole (so that 住房公积金 is not cut into 住房 + 公积金)."""
        return frozenset(self.synonyms) | frozenset(self.synonyms.values())
