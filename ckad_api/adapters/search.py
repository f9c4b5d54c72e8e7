"""BM25 ranking of course sections (bm25s over English stems) and highlighted snippets.

A section is scored at three levels, each its own bm25s index:

- the whole section: its title (counted twice), prose, code and review questions;
- its subsections, cut at the headings, each with the section's title and its own heading
  (counted twice): a question answered in one place of a long section is not drowned by the
  rest of it;
- its review questions one by one (prompt, hint and explanation): they are written the way
  learners ask.

A section's score is its own plus a share of its best subsection's and of its best question's.
At every level, pairs of adjacent words ("pause container", "rollout undo") are indexed as
well and add a share of their own BM25: a section that says the words together beats one
that has them far apart. Identifiers written in camelCase or snake_case are indexed with
their parts (`storageClassName`: storage, class, name). Last, a title naming the query's
words lifts its section.

The weights were tuned on the even-indexed questions of the tutor's evaluation set
(tests/fixtures/tutor_eval.yaml) and checked on the odd-indexed ones, which
tests/tutor/test_eval.py prints apart.

The index lives in memory and is built from the database's sections, so it ranks the same
whatever the database (SQLite or PostgreSQL). It is rebuilt when the content checksum moves.
"""

from __future__ import annotations

import collections
import dataclasses
import html
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'_-]*")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # what bm25s's own tokenizer splits on
_SENTENCE = re.compile(r"(?<=[.!?:])\s+")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_STOPWORDS = frozenset(STOPWORDS_EN)
_HUMP = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
SNIPPET_CHARS = 220

K1 = 2.5  # saturation of a section's term frequency: rewards a section using a word often
PART_K1 = 2.5  # the same for subsections
QUESTION_K1 = 1.2  # and for single review questions (short texts)
B = 0.75  # length normalisation at every level
PART_WEIGHT = 0.5  # share of a section's best subsection score added to its own
QUESTION_WEIGHT = 0.5  # share of its best review question's score
BIGRAM_WEIGHT = 0.25  # share of the BM25 of adjacent word pairs added at every level
COMPOUND_WEIGHT = 0.5  # share for the parts of an identifier in the query (see `stems`)
TITLE_WEIGHT = 1.0  # a title naming all the query's words doubles the score


@dataclasses.dataclass(frozen=True)
class SearchDoc:
    """One searchable section."""

    section_id: str
    chapter_id: str
    title: str
    text: str  # prose of the section body (snippets come from here)
    code: str = ""  # code blocks: searchable, never shown as a snippet
    # (prompt, hint, explanation) of each of the section's review questions
    questions: tuple[tuple[str, str, str], ...] = ()
    # (heading, prose, code) of each subsection; empty: the section is one part
    parts: tuple[tuple[str, str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class SearchHit:
    """A ranked section with its score and a snippet with <mark> around matches."""

    doc: SearchDoc
    score: float
    snippet_html: str


class Ranked(NamedTuple):
    """A section ranked for the tutor, with its relevance signals."""

    doc: SearchDoc
    score: float
    coverage: float  # share of the topic words the section (or its questions) uses
    in_title: float  # share of them in its title


class _Level:
    """One bm25s index whose entries (sections, subsections or questions) belong to sections;
    the entries of a section are consecutive."""

    def __init__(self, entries: list[list[str]], owners: list[int], k1: float):
        self._bm25 = bm25s.BM25(k1=k1, b=B)
        self._bm25.index(entries, show_progress=False)
        self._vocab = self._bm25.vocab_dict
        # Where each section's run of entries starts, for a max per section in one call.
        self._starts = np.flatnonzero(np.r_[True, np.diff(owners) != 0])
        self._owners = np.asarray(owners)[self._starts]

    def scores(self, terms: Sequence[str], sections: int) -> np.ndarray:
        """Each section's best entry's BM25 for `terms` (zero where nothing matches)."""
        best = np.zeros(sections)
        ids = [self._vocab[t] for t in terms if t in self._vocab]
        if ids:
            entries = self._bm25.get_scores_from_ids(ids)
            best[self._owners] = np.maximum.reduceat(entries, self._starts)
        return best


class SearchIndex:
    """An immutable index over `docs`: ranks sections for search and for the tutor."""

    def __init__(self, docs: list[SearchDoc]):
        self.docs = docs
        self._stemmer = Stemmer.Stemmer("english")
        texts = [[d.title, d.text, d.code, *(p for q in d.questions for p in q)] for d in docs]
        # Identifiers the course writes in camelCase or snake_case, lower-cased, with their
        # parts, so they are recognised however they are typed (see `stems`).
        self._compounds = {
            word.lower(): parts
            for doc_texts in texts
            for text in doc_texts
            for word in _TOKEN.findall(text)
            if (not word.islower() or "_" in word) and len(parts := _compound_parts(word)) > 1
        }
        # What the tutor corrects typos against: every word the course uses, with its count.
        self.vocabulary = collections.Counter(
            w.lower() for doc_texts in texts for text in doc_texts for w in _WORD.findall(text)
        )
        # Sentences and their stems are prepared once: snippets are the costly part of a
        # search otherwise (stemming every word of every hit on every query).
        self._sentences = [self._split(d.text) for d in docs]
        self._title_stems = [frozenset(self.stems(d.title)) for d in docs]
        self._doc_stems: list[frozenset[str]] = []
        if not docs:
            return
        analysed: dict[str, list[str]] = {}  # titles, headings, questions recur: once each
        sections, parts, part_owners, asked, asked_owners = [], [], [], [], []
        for i, d in enumerate(docs):
            questions = [p for q in d.questions for p in q[:2]]
            # The title counts twice: a query naming a section's subject should find it.
            # The review questions' prompts and hints count twice too: learners' phrasing.
            whole = self._terms(
                [d.title, d.title, d.text, d.code, *questions, *questions], analysed
            )
            sections.append(whole)
            self._doc_stems.append(frozenset(t for t in whole if " " not in t))
            for heading, prose, code in d.parts or (("", d.text, d.code),):
                parts.append(self._terms([d.title, heading, heading, prose, code], analysed))
                part_owners.append(i)
            for prompt, hint, explanation in d.questions:
                asked.append(self._terms([prompt, prompt, hint, hint, explanation], analysed))
                asked_owners.append(i)
        self._levels = [
            (1.0, _Level(sections, list(range(len(docs))), K1)),
            (PART_WEIGHT, _Level(parts, part_owners, PART_K1)),
        ]
        if asked:
            self._levels.append((QUESTION_WEIGHT, _Level(asked, asked_owners, QUESTION_K1)))
        self._known = frozenset().union(*self._doc_stems)

    @classmethod
    def from_sections(
        cls, rows: Iterable[tuple[str, str, str, str, Sequence[tuple[str, str, str]]]]
    ) -> SearchIndex:
        """An index over (section_id, chapter_id, title, Markdown body, review questions)
        rows; each question is (prompt, hint, explanation)."""
        from .markdown import plain_text

        docs = []
        for sid, cid, title, body, questions in rows:
            # Rendered part by part (no block crosses a heading): the body is their sum.
            parts = tuple(
                (heading, *plain_text(markdown)) for heading, markdown in split_at_headings(body)
            )
            text = " ".join(prose for _, prose, _ in parts if prose)
            code = " ".join(code for _, _, code in parts if code)
            docs.append(SearchDoc(sid, cid, title, text, code, tuple(questions), parts))
        return cls(docs)

    # -- words ------------------------------------------------------------------------------
    def stems(self, text: str) -> list[str]:
        """The stems of `text`'s words in order, stop words left out.

        An identifier the course writes in camelCase or snake_case (`storageClassName`,
        `httpHeaders`, `WEB_SERVICE_HOST`) is followed by its parts wherever it occurs, in
        whatever case: a learner asks about the "storage class name" or types
        `storageclassname`.
        """
        return self._stemmer.stemWords(self._words(text, with_parts=True))

    def query_stems(self, text: str) -> tuple[list[str], list[str]]:
        """The stems of a query's words, and apart the stems of its identifiers' parts.

        The parts count less than the words: `configmap` is one subject, not three.
        """
        words = self._words(text, with_parts=False)
        parts = [p for w in words for p in self._compounds.get(w, ())]
        return self._stemmer.stemWords(words), self._stemmer.stemWords(parts)

    def _words(self, text: str, with_parts: bool) -> list[str]:
        words = []
        for word in _TOKEN.findall(text.lower()):
            if word not in _STOPWORDS:
                words.append(word)
                if with_parts:
                    words += self._compounds.get(word, ())
        return words

    def _terms(self, texts: Iterable[str], analysed: dict[str, list[str]]) -> list[str]:
        """Stems and pairs of adjacent stems ("a b") of each text, as one entry's terms;
        `analysed` keeps each text's terms for the next entry that has it."""
        terms: list[str] = []
        for text in texts:
            if text not in analysed:
                stems = self.stems(text)
                analysed[text] = stems + _pairs(stems)
            terms += analysed[text]
        return terms

    def known_share(self, words: Sequence[str]) -> float:
        """The share of `words` (numbers aside) whose every stem the course uses somewhere.

        A word the course never uses ("nespresso", "terraform") says a question is about
        something else; a number says nothing either way.
        """
        counted = [s for s in (self.stems(w) for w in words if not w[:1].isdigit()) if s]
        if not counted:
            return 0.0
        return sum(1 for s in counted if all(x in self._known for x in s)) / len(counted)

    # -- ranking ---------------------------------------------------------------------------
    def _scores(self, stems: list[str], parts: list[str]) -> np.ndarray:
        unique = list(dict.fromkeys(stems))
        pairs = list(dict.fromkeys(_pairs(stems)))
        parts = [p for p in dict.fromkeys(parts) if p not in unique]
        total = np.zeros(len(self.docs))
        for weight, level in self._levels:
            level_scores = level.scores(unique, len(self.docs))
            if pairs:
                level_scores += BIGRAM_WEIGHT * level.scores(pairs, len(self.docs))
            if parts:
                level_scores += COMPOUND_WEIGHT * level.scores(parts, len(self.docs))
            total += weight * level_scores
        asked = set(unique)
        lift = np.array([len(asked & t) / len(asked) for t in self._title_stems])
        return total * (1 + TITLE_WEIGHT * lift)

    def _ranked(self, stems: list[str], parts: list[str], limit: int) -> list[tuple[int, float]]:
        if not self.docs or not stems or limit < 1:
            return []
        scores = self._scores(stems, parts)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def search(self, query: str, limit: int) -> list[SearchHit]:
        """Sections ranked for `query`; sections matching no query word are left out."""
        stems, parts = self.query_stems(query)
        marked = set(stems)
        return [
            SearchHit(self.docs[i], score, self._snippet(i, marked))
            for i, score in self._ranked(stems, parts, limit)
        ]

    def rank(self, query: str, limit: int, topic: list[str] | None = None) -> list[Ranked]:
        """Best sections for `query` with the tutor's relevance signals, computed on `topic`
        (the query's own words by default)."""
        stems, parts = self.query_stems(query)
        wanted = set(self.query_stems(" ".join(topic))[0] if topic else stems)
        if not wanted:
            return []
        return [
            Ranked(
                self.docs[i],
                score,
                len(wanted & self._doc_stems[i]) / len(wanted),
                len(wanted & self._title_stems[i]) / len(wanted),
            )
            for i, score in self._ranked(stems, parts, limit)
        ]

    # -- snippets --------------------------------------------------------------------------
    def _split(self, text: str) -> list[tuple[str, frozenset[str]]]:
        sentences = [s for s in _SENTENCE.split(text) if s.strip()] or [text]
        out = []
        for sentence in sentences:
            words = [w.lower() for w in _WORD.findall(sentence)]
            out.append((sentence, frozenset(self._stemmer.stemWords(words))))
        return out

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


def _compound_parts(word: str) -> tuple[str, ...]:
    """The lower-cased parts of a camelCase or snake_case word (`httpHeaders`: http, headers).

    PascalCase alone does not make a compound: kinds and states (`CrashLoopBackOff`) are
    terms of their own. As the index ignores case, a kind the course also writes as a field
    (`configMap:`) is split wherever it occurs.
    """
    if not (word[0].islower() or "_" in word.strip("_")):
        return ()
    parts = [p.lower() for p in _HUMP.findall(word)]
    return tuple(p for p in parts if len(p) > 1 and p not in _STOPWORDS)


def _pairs(stems: Sequence[str]) -> list[str]:
    """Adjacent stems as one term each: "a b" (a space never occurs inside a stem)."""
    return [f"{a} {b}" for a, b in itertools.pairwise(stems) if a != b]


def split_at_headings(markdown: str) -> list[tuple[str, str]]:
    """(heading, Markdown) of each part of a section, cut before every heading outside code
    blocks; text before the first heading has the heading ""."""
    parts: list[tuple[str, list[str]]] = [("", [])]
    in_code = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
        heading = None if in_code else _HEADING.match(line)
        if heading:
            parts.append((heading.group(1), [line]))
        else:
            parts[-1][1].append(line)
    return [(h, "\n".join(lines)) for h, lines in parts if h or any(x.strip() for x in lines)]
