"""Quick self-check for course authors: parse sections and questions of the given chapter
directories, validate ```yaml blocks with kubernetes-validate, and report 12-word runs
shared with the seed notes.
Usage: .venv/bin/python tools/content_selfcheck.py content/chapters/01-architecture ...
(The test suite does the authoritative checks; this is a fast loop while writing.)"""

import re
import sys
from pathlib import Path

import kubernetes_validate
import yaml

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)
TYPES = {
    "single_choice",
    "multi_choice",
    "true_false",
    "short_answer",
    "kubectl",
    "manifest",
    "flashcard",
}


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def seed_ngrams(n: int = 12) -> set[tuple[str, ...]]:
    grams: set[tuple[str, ...]] = set()
    for f in SEED.glob("*.txt"):
        w = words(f.read_text(errors="replace"))
        grams.update(tuple(w[i : i + n]) for i in range(len(w) - n + 1))
    return grams


def prose(md: str) -> str:
    return FENCE.sub(" ", md)


def main(dirs: list[str]) -> int:
    grams = seed_ngrams()
    problems = 0
    for d in map(Path, dirs):
        for md in sorted(d.glob("[0-9]*.md")):
            text = md.read_text()
            _, fm, body = text.split("---", 2)
            meta = yaml.safe_load(fm)
            assert {"id", "title", "competencies"} <= set(meta), f"{md}: front matter"
            for m in FENCE.finditer(body):
                info, code = m.group(1).strip(), m.group(2)
                if not info.startswith("yaml"):
                    continue
                try:
                    docs = [x for x in yaml.safe_load_all(code) if x is not None]
                except yaml.YAMLError as e:
                    print(f"{md}: YAML error: {e}")
                    problems += 1
                    continue
                if "partial" in info:
                    continue
                for doc in docs:
                    try:
                        kubernetes_validate.validate(doc, "1.37.0", strict=True)
                    except Exception as e:  # noqa: BLE001 - report every kind of failure
                        print(f"{md}: {doc.get('kind') if isinstance(doc, dict) else doc!r}: {e}")
                        problems += 1
            w = words(prose(body))
            for i in range(len(w) - 11):
                if tuple(w[i : i + 12]) in grams:
                    print(f"{md}: shares 12 words with the seed: {' '.join(w[i : i + 12])}")
                    problems += 1
                    break
        qfile = d / "questions.yaml"
        if qfile.exists():
            qs = yaml.safe_load(qfile.read_text())
            for q in qs:
                for f in (
                    "id",
                    "type",
                    "prompt",
                    "answer",
                    "explanation",
                    "section",
                    "competencies",
                    "difficulty",
                ):
                    if f not in q:
                        print(f"{qfile}: {q.get('id')}: missing {f}")
                        problems += 1
                if q.get("type") not in TYPES:
                    print(f"{qfile}: {q.get('id')}: bad type")
                    problems += 1
                text = " ".join(str(q.get(k, "")) for k in ("prompt", "explanation", "choices"))
                w = words(text)
                for i in range(len(w) - 11):
                    if tuple(w[i : i + 12]) in grams:
                        print(f"{qfile}: {q['id']}: shares 12 words with the seed")
                        problems += 1
                        break
            print(f"{qfile}: {len(qs)} questions")
    # The service's own checker (the authoritative rules: answer shapes, ids, references).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ckad_api.adapters.content_files import read_content

    root = Path(__file__).resolve().parents[1] / "content"
    mine = [str(Path(d).resolve().relative_to(root.parent)) for d in dirs]
    for line in read_content(root).problems:
        if any(line.startswith(m) for m in mine):
            print(line)
            problems += 1
    print("problems:", problems)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
