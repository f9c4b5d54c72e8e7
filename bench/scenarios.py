"""What the benchmark requests: a data list, so a later endpoint is one more entry.

Paths and header values are templates filled from the context `discover()` reads from the
running service (for example `{chapter_id}` and `{chapter_etag}`).
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from . import bare

BARE = "bare"
SERVICE = "service"


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One load pattern: which server, which paths (one picked per request), which headers."""

    name: str
    server: str  # BARE or SERVICE
    paths: tuple[str, ...]
    description: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    expect_status: int = 200
    chapter_read: bool = False  # held to the chapter-read target ratio

    def render(self, context: Mapping[str, str]) -> Scenario:
        """This scenario with its templates filled from `context`."""
        return dataclasses.replace(
            self,
            paths=tuple(p.format_map(context) for p in self.paths),
            headers={k: v.format_map(context) for k, v in self.headers.items()},
        )


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
        chapter_read=True,
    ),
    Scenario(
        name="chapter-304",
        server=SERVICE,
        paths=("/api/v1/chapters/{chapter_id}",),
        headers={"If-None-Match": "{chapter_etag}"},
        expect_status=304,
        description="GET a chapter with a matching If-None-Match (304, no body)",
        chapter_read=True,
    ),
    Scenario(
        name="search",
        server=SERVICE,
        paths=tuple(f"/api/v1/search?q={urllib.parse.quote_plus(q)}" for q in SEARCH_QUERIES),
        description=f"GET /api/v1/search, rotating {len(SEARCH_QUERIES)} queries",
    ),
]


def fetch(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 10
) -> tuple[int, Mapping[str, str], bytes]:
    """GET `url`: status, headers and body, whatever the status (urllib raises on 3xx/4xx)."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def discover(service_url: str, token: str) -> dict[str, str]:
    """The template values: the first chapter's id and its current ETag."""
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
    return {"chapter_id": chapter_id, "chapter_etag": etag}


def preflight(scenario: Scenario, base_url: str, token: str) -> list[str]:
    """One request per path; the problems found (a wrong status would skew every number)."""
    problems = []
    for path in scenario.paths:
        headers = {**scenario.headers, "Authorization": f"Bearer {token}"}
        status, _, body = fetch(base_url + path, headers)
        if status != scenario.expect_status:
            problems.append(
                f"{scenario.name}: GET {path} answered {status}, expected "
                f"{scenario.expect_status}: {body[:200]!r}"
            )
    return problems
