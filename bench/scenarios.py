"""What the benchmark requests: a data list, so a later endpoint is one more entry.

Paths and header values are templates filled from the context `discover()` reads from the
running service (for example `{chapter_id}`, `{chapter_etag}` and `{lab_id}`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from . import bare
from .config import (
    ANSWER_TARGET_RATIO,
    ANSWERS_PATH,
    CHAPTER_TARGET_RATIO,
    CHAT_BODIES_PATH,
    CHAT_REQUESTS_PATH,
    CHAT_TARGET_RATIO,
    DUE_TARGET_RATIO,
    VERIFY_BODY_PATH,
    VERIFY_TARGET_RPS,
)

BARE = "bare"
SERVICE = "service"
FLOOR = "floor"  # bench/floor.py: a hot endpoint's unavoidable work, nothing else


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One load pattern: which server, which paths (one picked per request), which headers."""

    name: str
    server: str  # BARE, SERVICE or FLOOR
    paths: tuple[str, ...]
    description: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    expect_status: int = 200
    method: str = "GET"
    body_file: Path | None = None  # the body of every request
    # Answer mode (see wrk_script.lua): requests built from the cards in ANSWERS_PATH, whose
    # versions the script tracks; `paths` is only what the table shows.
    answers: bool = False
    # Request-list mode: each request is a random line `TOKEN PATH` of this file (requests
    # that belong to one learner, such as a message to their own conversation).
    requests_file: Path | None = None
    bodies_file: Path | None = None  # one body per line, one picked per request
    target_ratio: float | None = None  # held to at least this fraction of bare's req/s
    target_rps: float | None = None  # held to at least this many req/s
    # A FLOOR scenario: the service scenario whose upper bound on this stack it measures.
    floor_of: str | None = None

    @property
    def counts_conflicts(self) -> bool:
        """True when a 409 is the API's answer to two of the load's requests racing (answers
        to one card, messages to one conversation): counted apart, capped, not an error."""
        return self.answers or self.requests_file is not None

    @property
    def target(self) -> str | None:
        """The target in words, or None."""
        if self.target_ratio is not None:
            return f">= {self.target_ratio:.2f} of bare"
        if self.target_rps is not None:
            return f">= {self.target_rps:.0f} req/s"
        return None

    def render(self, context: Mapping[str, str]) -> Scenario:
        """This scenario with its templates filled from `context` (unknown names stay)."""
        values = _Template(context)
        return dataclasses.replace(
            self,
            paths=tuple(p.format_map(values) for p in self.paths),
            headers={k: v.format_map(values) for k, v in self.headers.items()},
        )


class _Template(dict):
    """Template values; a name missing from them stays `{name}`, for preflight to report."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


SEARCH_QUERIES = (
    "readiness probe",
    "rolling update",
    "configmap env",
    "network policy",
    "resource limits",
    "service account token",
)

SCENARIOS: list[Scenario] = [
    Scenario(
        name="bare",
        server=BARE,
        paths=(bare.PATH,),
        description="bare Flask app, constant small JSON (the ceiling)",
    ),
    Scenario(
        name="chapter",
        server=SERVICE,
        paths=("/api/v1/chapters/{chapter_id}",),
        description="GET a chapter, no If-None-Match (200 with the body)",
        target_ratio=CHAPTER_TARGET_RATIO,
    ),
    Scenario(
        name="chapter-304",
        server=SERVICE,
        paths=("/api/v1/chapters/{chapter_id}",),
        headers={"If-None-Match": "{chapter_etag}"},
        expect_status=304,
        description="GET a chapter with a matching If-None-Match (304, no body)",
        target_ratio=CHAPTER_TARGET_RATIO,
    ),
    Scenario(
        name="search",
        server=SERVICE,
        paths=tuple(f"/api/v1/search?q={urllib.parse.quote_plus(q)}" for q in SEARCH_QUERIES),
        description=f"GET /api/v1/search, rotating {len(SEARCH_QUERIES)} queries",
    ),
    Scenario(
        name="due",
        server=SERVICE,
        paths=("/api/v1/reviews/due?limit=20",),
        description="GET the 20 most urgent due cards of a random learner (300 cards each)",
        target_ratio=DUE_TARGET_RATIO,
    ),
    Scenario(
        name="answer",
        server=SERVICE,
        paths=("/api/v1/reviews/{question_id}/answer",),
        method="POST",
        answers=True,
        description="POST the right choice to a learner's single_choice card, current version",
        target_ratio=ANSWER_TARGET_RATIO,
    ),
    Scenario(
        name="verify",
        server=SERVICE,
        paths=("/api/v1/labs/{lab_id}/verify",),
        method="POST",
        headers={"Content-Type": "application/json"},
        body_file=VERIFY_BODY_PATH,
        description="POST 10 manifests (one YAML text) to a lab's verify",
        target_rps=VERIFY_TARGET_RPS,
    ),
    Scenario(
        name="chat",
        server=SERVICE,
        paths=("/api/v1/chat/conversations/{chat_conversation}/messages",),
        method="POST",
        headers={"Content-Type": "application/json"},
        requests_file=CHAT_REQUESTS_PATH,
        bodies_file=CHAT_BODIES_PATH,
        description="POST a course question to the learner's own tutor conversation",
        target_ratio=CHAT_TARGET_RATIO,
    ),
]


def _floor(of: str, description: str) -> Scenario:
    """Scenario `of`'s requests, sent to bench/floor.py: the bound on what `of` can reach."""
    service = next(s for s in SCENARIOS if s.name == of)
    return dataclasses.replace(
        service,
        name=f"floor-{of}",
        server=FLOOR,
        description=f"floor of `{of}`: {description}",
        target_ratio=None,
        target_rps=None,
        floor_of=of,
    )


# Each endpoint's queries and retrieval alone, without the service's framework, validation,
# grading, scheduling or reply. Their ratios bound what the service's can reach on this stack.
SCENARIOS += [
    _floor("chapter", "token lookup and the cached body"),
    _floor("chapter-304", "token lookup and the ETag comparison"),
    _floor("due", "token lookup and the ranked due query, rows returned"),
    _floor("answer", "token lookup, read, compare-and-set, log, commit"),
    _floor("chat", "token lookup, state read, retrieval, two messages, commit"),
]

# What learners ask the tutor in the `chat` scenario: course questions as people type them
# (each answered from the course, with citations), rotated so no single cached answer wins.
CHAT_MESSAGES = (
    "how do i roll back a deployment",
    "liveness vs readiness probe?",
    "whats a netpol",
    "how does a svc find its pods",
    "difference between configmap and secret",
    "what is a sidecar container",
    "how to limit cpu for a pod",
    "what does a pvc do",
)
CHAT_CONVERSATIONS = 500  # learners with an open conversation (at most the learners seeded)

VERIFY_DOCUMENTS = 10


def fetch(
    url: str,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
    *,
    method: str = "GET",
    data: bytes | None = None,
) -> tuple[int, Mapping[str, str], bytes]:
    """Request `url`: status, headers and body, whatever the status (urllib raises on 4xx)."""
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}), method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def lab_solution(content_dir: Path, lab_id: str) -> Path | None:
    """The solution file of the lab `lab_id` in `content_dir`, or None."""
    for lab_file in sorted((content_dir / "labs").glob("*/lab.yaml")):
        solution = lab_file.parent / "solution.yaml"
        try:
            lab = yaml.safe_load(lab_file.read_text())
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(lab, dict) and lab.get("id") == lab_id and solution.is_file():
            return solution
    return None


def ten_manifests(solution: str, count: int = VERIFY_DOCUMENTS) -> str:
    """`count` YAML documents: the solution's objects, then renamed copies of them in turn."""
    objects = [d for d in yaml.safe_load_all(solution) if isinstance(d, dict)]
    if not objects:
        raise RuntimeError("the lab's solution holds no object")
    out = []
    for n in range(count):
        obj = copy.deepcopy(objects[n % len(objects)])
        copy_number = n // len(objects)
        if copy_number:
            meta = obj.setdefault("metadata", {})
            meta["name"] = f"{meta.get('name', 'object')}-copy{copy_number}"
        out.append(obj)
    return yaml.safe_dump_all(out, sort_keys=False)


def discover(service_url: str, token: str, content_dir: Path) -> dict[str, str]:
    """The template values: the first chapter's id and ETag, and a lab with a solution.

    Also writes VERIFY_BODY_PATH, the `verify` scenario's body: ten manifests built from
    that lab's solution (no lab: no `lab_id`, and `verify` fails its preflight).
    """
    auth = {"Authorization": f"Bearer {token}"}
    status, _, body = fetch(f"{service_url}/api/v1/chapters", auth)
    if status != 200:
        raise RuntimeError(f"GET /api/v1/chapters answered {status}: {body[:300]!r}")
    items: list[dict[str, Any]] = json.loads(body)["items"]
    if not items:
        raise RuntimeError("GET /api/v1/chapters returned no chapter")
    chapter_id = items[0]["id"]
    status, headers, body = fetch(f"{service_url}/api/v1/chapters/{chapter_id}", auth)
    etag = headers.get("ETag")
    if status != 200 or not etag:
        raise RuntimeError(f"GET /api/v1/chapters/{chapter_id}: {status}, ETag {etag!r}")
    context = {"chapter_id": chapter_id, "chapter_etag": etag}
    VERIFY_BODY_PATH.unlink(missing_ok=True)  # a previous run's lab may be gone
    status, _, body = fetch(f"{service_url}/api/v1/labs", auth)
    labs = json.loads(body).get("items", []) if status == 200 else []
    for lab in labs:
        solution = lab_solution(content_dir, lab["id"])
        if solution is not None:
            manifests = ten_manifests(solution.read_text())
            VERIFY_BODY_PATH.write_text(json.dumps({"source": "manifests", "manifests": manifests}))
            context["lab_id"] = lab["id"]
            context["lab_solution"] = str(solution)
            break
    return context


def open_conversations(service_url: str, tokens: list[str]) -> dict[str, str]:
    """Open a tutor conversation for each of the first learners; `{chat_conversation}`.

    Writes CHAT_REQUESTS_PATH (`TOKEN PATH` of each learner's own conversation: a message
    to another learner's conversation is a 404) and CHAT_BODIES_PATH (the messages).
    """
    lines = []
    for token in tokens[:CHAT_CONVERSATIONS]:
        status, _, body = fetch(
            f"{service_url}/api/v1/chat/conversations",
            {"Authorization": f"Bearer {token}"},
            method="POST",
        )
        if status != 201:
            raise RuntimeError(f"POST /api/v1/chat/conversations answered {status}: {body[:200]!r}")
        conversation = json.loads(body)["id"]
        lines.append(f"{token} /api/v1/chat/conversations/{conversation}/messages\n")
    CHAT_REQUESTS_PATH.write_text("".join(lines))
    CHAT_BODIES_PATH.write_text("".join(json.dumps({"text": m}) + "\n" for m in CHAT_MESSAGES))
    first = lines[0].split()[1].split("/")[-2]
    return {"chat_conversation": first}


def answer_lines(rows: list[tuple[str, str, int, int]]) -> str:
    """The answer mode's card file: `TOKEN QUESTION_ID CHOICE VERSION` per line."""
    return "".join(
        f"{token} {question} {choice} {version}\n" for token, question, choice, version in rows
    )


def preflight(scenario: Scenario, base_url: str, token: str) -> list[str]:
    """One request per path; the problems found (a wrong status would skew every number)."""
    problems = []
    requests: list[tuple[str, dict[str, str], bytes | None]] = []
    if scenario.answers:
        # The first card of the answer file, as its own learner.
        first = ANSWERS_PATH.read_text().split("\n", 1)[0].split()
        if len(first) != 4:
            return [f"{scenario.name}: no card in {ANSWERS_PATH.name}"]
        owner, question, choice, version = first
        payload = {"answer": int(choice), "version": int(version), "elapsed_ms": 8000}
        requests.append(
            (
                f"/api/v1/reviews/{question}/answer",
                {"Authorization": f"Bearer {owner}", "Content-Type": "application/json"},
                json.dumps(payload).encode(),
            )
        )
    else:
        unfilled = [p for p in scenario.paths if "{" in p]
        if unfilled:
            return [f"{scenario.name}: {unfilled[0]} has an unfilled template"]
        data = scenario.body_file.read_bytes() if scenario.body_file else None
        if scenario.bodies_file is not None:
            data = scenario.bodies_file.read_text().split("\n", 1)[0].encode()
        for path in scenario.paths:
            headers = {**scenario.headers, "Authorization": f"Bearer {token}"}
            requests.append((path, headers, data))
    for path, headers, data in requests:
        status, _, body = fetch(base_url + path, headers, method=scenario.method, data=data)
        if status != scenario.expect_status:
            problems.append(
                f"{scenario.name}: {scenario.method} {path} answered {status}, expected "
                f"{scenario.expect_status}: {body[:200]!r}"
            )
    return problems
