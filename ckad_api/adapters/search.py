"""BM25 ranking of course sections (bm25s with English stemming) and highlighted snippets.

The index lives in memory and is built from the database's sections, so it ranks the same
whatever the database (SQLite or PostgreSQL). It is rebuilt when the content checksum moves.
"""

from __future__ import annotations

import dataclasses
import html
import re

import bm25s
import Stemmer
from bm25s.tokenization import Tokenizer

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'_-]*")
_SENTENCE = re.compile(r"(?<=[.!?:])\s+")
SNIPPET_CHARS = 220
TITLE_WEIGHT = 1.0  # how much a title naming the query words lifts a section (tutor ranking)


@dataclasses.dataclass(frozen=True)
class SearchDoc:
    """One searchable section."""

    section_id: str
    chapter_id: str
    title: str
    text: str  # prose of the section body (snippets come from here)
    code: str = ""  # code blocks: searchable, never shown as a snippet
    extra: str = ""  # the section's review questions: learners' phrasing of its topics


@dataclasses.dataclass(frozen=True)
class SearchHit:
    """A ranked section with its BM25 score and a snippet with <mark> around matches."""

    doc: SearchDoc
    score: float
    snippet_html: str


class SearchIndex:
    """An immutable BM25 index over `docs`."""

    def __init__(self, docs: list[SearchDoc]):
        self.docs = docs
        self._stemmer = Stemmer.Stemmer("english")
        self._tokenizer = Tokenizer(stemmer=self._stemmer, stopwords="en", lower=True)
        # k1 = 2.5 rewards a section that uses a query word often; tuned on the tutor's
        # evaluation set (tests/fixtures/tutor_eval.yaml) against the default 1.5.
        self._retriever = bm25s.BM25(k1=2.5, b=0.75)
        if docs:
            # The title counts twice: a query naming a section's subject should find it first.
            # The section's review questions count twice: they are phrased the way learners ask.
            corpus = [f"{d.title} {d.title} {d.text} {d.code} {d.extra} {d.extra}" for d in docs]
            ids = self._tokenizer.tokenize(
                corpus, update_vocab=True, return_as="ids", show_progress=False
            )
            self._retriever.index(ids, show_progress=False)
        # Sentences and their stems are prepared once: snippets are the costly part of a
        # search otherwise (stemming every word of every hit on every query).
        self._sentences = [self._split(d.text) for d in docs]
        self._doc_stems = [
            frozenset(
                self._stemmer.stemWords(
                    [w.lower() for w in _WORD.findall(f"{d.title} {d.text} {d.code}")]
                )
            )
            for d in docs
        ]
        self._title_stems = [
            frozenset(self._stemmer.stemWords([w.lower() for w in _WORD.findall(d.title)]))
            for d in docs
        ]
        self.vocabulary = frozenset(
            w.lower() for d in docs for w in _WORD.findall(f"{d.title} {d.text} {d.code}")
        )

    @classmethod
    def from_sections(cls, rows: list[tuple[str, str, str, str, str]]) -> SearchIndex:
        """An index over (section_id, chapter_id, title, Markdown body, extra text) rows."""
        from .markdown import plain_text

        return cls(
            [
                SearchDoc(sid, cid, title, *plain_text(body), extra)
                for sid, cid, title, body, extra in rows
            ]
        )

    def _split(self, text: str) -> list[tuple[str, frozenset[str]]]:
        sentences = [s for s in _SENTENCE.split(text) if s.strip()] or [text]
        out = []
        for sentence in sentences:
            words = [w.lower() for w in _WORD.findall(sentence)]
            out.append((sentence, frozenset(self._stemmer.stemWords(words))))
        return out

    def _stems(self, text: str) -> set[str]:
        words = [w.lower() for w in _WORD.findall(text)]
        return {self._stemmer.stemWord(w) for w in words if w not in self._tokenizer.stopwords}

    def search(self, query: str, limit: int) -> list[SearchHit]:
        """Sections ranked by BM25 for `query`; sections matching no query word are left out."""
        if not self.docs or not query.strip():
            return []
        stems = self._stems(query)
        if not stems:
            return []
        ids = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )
        k = min(limit, len(self.docs))
        results, scores = self._retriever.retrieve(ids, k=k, show_progress=False)
        hits = []
        for index, score in zip(results[0], scores[0], strict=True):
            if score <= 0:
                continue
            doc = self.docs[int(index)]
            hits.append(SearchHit(doc, float(score), self._snippet(int(index), stems)))
        return hits

    def rank(
        self, query: str, limit: int, topic: list[str] | None = None
    ) -> list[tuple[SearchDoc, float, float, float]]:
        """Best sections for `query` with (score, share of the topic words the section has,
        share of them in its title): the tutor's relevance signals. `topic` defaults to the
        query's own words."""
        if not self.docs:
            return []
        stems = self._stems(" ".join(topic) if topic else query)
        if not stems:
            return []
        ids = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )
        k = min(limit, len(self.docs))
        results, scores = self._retriever.retrieve(ids, k=k, show_progress=False)
        ranked = []
        for index, score in zip(results[0], scores[0], strict=True):
            if score <= 0:
                continue
            i = int(index)
            coverage = len(stems & self._doc_stems[i]) / len(stems)
            in_title = len(stems & self._title_stems[i]) / len(stems)
            ranked.append((self.docs[i], float(score), coverage, in_title))
        # A section whose title names the question's subject wins close calls.
        ranked.sort(key=lambda r: -(r[1] * (1 + TITLE_WEIGHT * r[3])))
        return ranked

    def _snippet(self, index: int, stems: set[str]) -> str:
        """The passage of a doc with the most query words, escaped, matches in <mark>."""
        sentences = self._sentences[index]
        best, best_score = 0, -1
        for i, (_, sentence_stems) in enumerate(sentences):
            found = len(sentence_stems & stems)
            if found > best_score:
                best, best_score = i, found
        passage = sentences[best][0]
        for following, _ in sentences[best + 1 :]:
            if len(passage) >= SNIPPET_CHARS:
                break
            passage = f"{passage} {following}"
        if len(passage) > SNIPPET_CHARS:
            cut = passage.rfind(" ", 0, SNIPPET_CHARS)
            passage = passage[: cut if cut > 0 else SNIPPET_CHARS] + " …"
        return self._mark(passage, stems)

    def _mark(self, passage: str, stems: set[str]) -> str:
        out, last = [], 0
        for m in _WORD.finditer(passage):
            out.append(html.escape(passage[last : m.start()]))
            word = m.group(0)
            if self._stemmer.stemWord(word.lower()) in stems:
                out.append(f"<mark>{html.escape(word)}</mark>")
            else:
                out.append(html.escape(word))
            last = m.end()
        out.append(html.escape(passage[last:]))
        return "".join(out)
