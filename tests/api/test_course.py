"""Course routes: outline, chapters, sections, search, ETags."""

from __future__ import annotations


def test_course_lists_domains_with_weights(api, client):
    body = client.get("/api/v1/course", headers=api.auth()).get_json()
    weights = {d["id"]: d["weight"] for d in body["domains"]}
    assert weights["config-security"] == 25 and sum(weights.values()) == 100
    comps = {c["id"]: c for d in body["domains"] for c in d["competencies"]}
    assert len(comps) == 25
    assert comps["observability/probes"]["sections"] == ["basics-pods"]


def test_chapters_and_chapter(api, client):
    headers = api.auth()
    chapters = client.get("/api/v1/chapters", headers=headers).get_json()["items"]
    assert [c["id"] for c in chapters] == ["basics"]
    assert chapters[0]["section_count"] == 2 and chapters[0]["question_count"] == 7
    chapter = client.get("/api/v1/chapters/basics", headers=headers).get_json()
    assert [s["id"] for s in chapter["sections"]] == ["basics-pods", "basics-deployments"]
    assert chapter["objectives"] == ["Tell a Pod from a Deployment"]
    assert "answer" not in str(chapter)


def test_unknown_chapter_and_section_are_404_problems(api, client):
    headers = api.auth()
    for path in ("/api/v1/chapters/nope", "/api/v1/sections/nope"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert "nope" in response.get_json()["detail"]


def test_section_has_markdown_and_sanitised_html(api, client):
    section = client.get("/api/v1/sections/basics-pods", headers=api.auth()).get_json()
    assert section["markdown"].startswith("A **Pod**")
    assert "<strong>Pod</strong>" in section["html"]
    assert "<script" not in section["html"]
    assert 'class="language-yaml"' in section["html"]  # code highlighted at load time
    assert (section["previous_section_id"], section["next_section_id"]) == (
        None,
        "basics-deployments",
    )


def test_content_reads_need_a_token(client):
    for path in (
        "/api/v1/course",
        "/api/v1/chapters",
        "/api/v1/chapters/basics",
        "/api/v1/sections/basics-pods",
        "/api/v1/search?q=pod",
    ):
        assert client.get(path).status_code == 401, path


def test_etag_and_304(api, client):
    headers = api.auth()
    first = client.get("/api/v1/chapters/basics", headers=headers)
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    again = client.get("/api/v1/chapters/basics", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    other = client.get("/api/v1/chapters/basics", headers={**headers, "If-None-Match": '"x"'})
    assert other.status_code == 200
    section = client.get("/api/v1/sections/basics-pods", headers=headers)
    assert section.headers["ETag"] != etag


def test_etag_changes_when_content_changes(app, api, client, tmp_path):
    import shutil

    from tests.conftest import FIXTURE_CONTENT

    headers = api.auth()
    before = client.get("/api/v1/chapters/basics", headers=headers).headers["ETag"]
    edited = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, edited)
    chapter = edited / "chapters/01-basics/chapter.yaml"
    chapter.write_text(chapter.read_text().replace("Basics for tests", "Basics, revised"))
    app.extensions["ckad"].content.load(edited)
    response = client.get("/api/v1/chapters/basics", headers={**headers, "If-None-Match": before})
    assert response.status_code == 200
    assert response.get_json()["title"] == "Basics, revised"


def test_search_ranks_and_highlights(api, client):
    headers = api.auth()
    body = client.get("/api/v1/search?q=readiness+probes", headers=headers).get_json()
    assert body["items"][0]["section_id"] == "basics-pods"
    assert "<mark>readiness</mark>" in body["items"][0]["snippet"]
    rolling = client.get("/api/v1/search?q=rolling%20update", headers=headers).get_json()
    assert rolling["items"][0]["section_id"] == "basics-deployments"
    none = client.get("/api/v1/search?q=pizza+naples", headers=headers).get_json()
    assert none["items"] == []


def test_search_validates_its_query(api, client):
    headers = api.auth()
    assert client.get("/api/v1/search", headers=headers).status_code == 400
    long = client.get("/api/v1/search?q=" + "a" * 201, headers=headers)
    assert long.status_code == 400 and "q" in long.get_json()["errors"]
    bad_limit = client.get("/api/v1/search?q=pod&limit=0", headers=headers)
    assert bad_limit.status_code == 400 and "limit" in bad_limit.get_json()["errors"]
    hostile = client.get(
        "/api/v1/search?q=%27%3B+DROP+TABLE+learners%3B--+<script>", headers=headers
    )
    assert hostile.status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200
