"""Extractive summarisation for the local slide engine: sentences ranked by centrality.

The ranking is LexRank-style TextRank: sentences become TF-IDF vectors (stemmed words, stop words
removed), cosine similarity links them into a weighted graph, and PageRank by power iteration scores
each sentence by how much the rest of the text "agrees" with it. Everything is deterministic: fixed
iterations, ties broken by position.

Sentence boundaries come from sentencex (Wikimedia; abbreviation-aware, ~300 languages), stop words
from `stop-words`, stems from Snowball; languages those libraries do not know still work, unstemmed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np
import snowballstemmer
from sentencex import segment
from stop_words import LANGUAGE_MAPPING, get_stop_words

DAMPING = 0.85
MAX_RANKED = 600  # sentences ranked as one graph at most: memory grows with the square (600 → ~12 MB)
_WORD = re.compile(r"\w+", re.UNICODE)
# Han, Hiragana, Katakana and Hangul are written without spaces: they are compared by character pairs.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
DECIMAL_COMMA = frozenset({"de", "fr", "es", "it", "pt", "nl", "pl", "ru", "uk", "sv", "da", "nb", "no", "fi", "cs",
                           "sk", "tr", "ro", "hu", "bg", "ca", "el", "id", "vi"})


def base_language(code: str) -> str:
    """'de-CH' → 'de'."""
    return re.split(r"[-_]", (code or "en").strip().lower())[0] or "en"


@lru_cache(maxsize=64)
def _stop_words(language: str) -> frozenset[str]:
    return frozenset(get_stop_words(language)) if language in LANGUAGE_MAPPING else frozenset()


@lru_cache(maxsize=64)
def _stemmer(language: str) -> snowballstemmer.Stemmer | None:
    name = LANGUAGE_MAPPING.get(language, "")
    return snowballstemmer.stemmer(name) if name in snowballstemmer.algorithms() else None


@lru_cache(maxsize=200_000)
def _stem(language: str, word: str) -> str:
    # Snowball in pure Python costs ~0.1 ms a word; a document repeats its words, so each is stemmed once.
    stemmer = _stemmer(language)
    return stemmer.stemWord(word) if stemmer else word


def guess_language(text: str, *, default: str = "en") -> str:
    """The language whose stop words cover most of the text's words (ISO 639-1), else `default`.

    Good enough to pick stop words, a stemmer and number formats; not a general language detector.
    """
    words = [w.lower() for w in _WORD.findall(text[:20_000])]
    if len(words) < 8:
        return base_language(default)
    counts = Counter(words)
    best, best_share = base_language(default), 0.0
    for code in LANGUAGE_MAPPING:
        stops = _stop_words(code)
        share = sum(n for w, n in counts.items() if w in stops) / len(words)
        if share > best_share + 1e-9:
            best, best_share = code, share
    return best if best_share >= 0.15 else base_language(default)


def split_sentences(text: str, *, language: str) -> list[str]:
    """The sentences of a paragraph, whitespace-normalised."""
    text = " ".join(text.split())
    if not text:
        return []
    return [s for s in (" ".join(part.split()) for part in segment(base_language(language), text)) if s]


def tokens(text: str, *, language: str) -> list[str]:
    """Stemmed content words (and CJK character pairs) of a text."""
    language = base_language(language)
    stops = _stop_words(language)
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if _CJK.search(word):
            out += [word[i:i + 2] for i in range(max(1, len(word) - 1))]
        elif word not in stops and (len(word) > 1 or word.isdigit()):
            out.append(_stem(language, word))
    return out


class SentenceIndex:
    """TF-IDF vectors of a set of sentences, with centrality ranking and query relevance.

    Vectors are kept sparse (a 200,000-character source has ~2,000 sentences and ~8,000 distinct words);
    a dense matrix is built only for the sentences being ranked together.
    """

    def __init__(self, sentences: list[str], *, language: str):
        self.sentences = sentences
        self.language = language
        bags = [Counter(tokens(s, language=language)) for s in sentences]
        df: Counter[str] = Counter(word for bag in bags for word in bag)
        n = max(1, len(sentences))
        # Smoothed IDF without the usual +1: a word in every sentence says nothing about centrality.
        self.idf = {word: math.log((1 + n) / (1 + count)) + 1e-6 for word, count in df.items()}
        self.vectors: list[dict[str, float]] = [self._vector(bag) for bag in bags]
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for row, vector in enumerate(self.vectors):
            for word, weight in vector.items():
                self.postings.setdefault(word, []).append((row, weight))

    def _vector(self, bag: Counter[str]) -> dict[str, float]:
        weights = {w: (1 + math.log(c)) * self.idf[w] for w, c in bag.items() if w in self.idf}
        norm = math.sqrt(sum(v * v for v in weights.values()))
        return {w: v / norm for w, v in weights.items()} if norm else {}

    def rank(self, rows: list[int] | None = None) -> list[int]:
        """Indices of `rows` (default: all sentences), most central first.

        Long runs are ranked in consecutive windows of MAX_RANKED sentences (the graph grows with the
        square of its size); scores are scaled by window size so windows compare.
        """
        rows = list(range(len(self.sentences))) if rows is None else list(rows)
        scored: list[tuple[float, int, int]] = []
        windows = math.ceil(len(rows) / MAX_RANKED) if rows else 0
        size = math.ceil(len(rows) / windows) if windows else 0
        for start in range(0, len(rows), size or 1):
            window = rows[start:start + size]
            for position, score in enumerate(self._centrality(window)):
                scored.append((-round(score * len(window), 9), start + position, window[position]))
        return [row for *_, row in sorted(scored)]

    def _centrality(self, rows: list[int]) -> list[float]:
        if len(rows) <= 1:
            return [1.0] * len(rows)
        columns = {w: i for i, w in enumerate(sorted({w for r in rows for w in self.vectors[r]}))}
        matrix = np.zeros((len(rows), max(1, len(columns))))
        for i, r in enumerate(rows):
            for word, weight in self.vectors[r].items():
                matrix[i, columns[word]] = weight
        return [float(x) for x in pagerank(matrix @ matrix.T)]

    def relevant(self, query: str, *, k: int, exclude: set[int] | frozenset[int] = frozenset()) -> list[int]:
        """Up to `k` sentence indices most similar to `query` (only ones sharing words with it), best first."""
        vector = self._vector(Counter(tokens(query, language=self.language)))
        scores: dict[int, float] = {}
        for word, weight in vector.items():
            for row, row_weight in self.postings.get(word, []):
                scores[row] = scores.get(row, 0.0) + weight * row_weight
        order = sorted(scores, key=lambda r: (-round(scores[r], 9), r))
        return [r for r in order if scores[r] > 1e-9 and r not in exclude][:k]


def pagerank(similarity: np.ndarray, *, damping: float = DAMPING, iterations: int = 100) -> np.ndarray:
    """PageRank scores of a weighted, undirected graph given as a similarity matrix (self-loops ignored)."""
    n = similarity.shape[0]
    weights = similarity.copy()
    np.fill_diagonal(weights, 0.0)
    weights[weights < 0] = 0.0
    sums = weights.sum(axis=1, keepdims=True)
    # A sentence sharing no words with any other spreads its vote evenly (a dangling node).
    transition = np.divide(weights, sums, out=np.full_like(weights, 1.0 / n), where=sums > 0)
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1 - damping) / n + damping * (transition.T @ scores)
        if np.abs(updated - scores).sum() < 1e-12:
            return updated
        scores = updated
    return scores
