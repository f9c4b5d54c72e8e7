"""Course routes: the course outline, chapters, sections and search."""

from __future__ import annotations

from flask.views import MethodView

from . import schemas as s
from .common import Blueprint, auth_required, cached_content, json_response, services

blp = Blueprint("course", __name__, url_prefix="/api/v1", description="Course content")

ETAG_HEADER = {"ETag": {"description": "Entity tag of the body", "schema": {"type": "string"}}}


def conditional(view):
    """Document `If-None-Match` and the 304 answer of a content read."""
    view = blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "If-None-Match",
                "required": False,
                "description": "ETag of a copy the client holds; 304 when still current",
                "schema": {"type": "string"},
            }
        ]
    )(view)
    return blp.alt_response(304, description="Not modified: the client's copy is current")(view)


_COURSE = s.CourseSchema()
_CHAPTERS = s.ChapterListSchema()
_CHAPTER = s.ChapterSchema()
_SECTION = s.SectionSchema()
_SEARCH = s.SearchResultSchema()


@blp.route("/course")
class Course(MethodView):
    """The course outline."""

    @auth_required(blp)
    @conditional
    @blp.response(200, s.CourseSchema, headers=ETAG_HEADER)
    def get(self):
        """Domains and competencies with their exam weights."""
        view = services().content.view()
        return cached_content(view, "course", _COURSE, lambda: view.course)


@blp.route("/chapters")
class Chapters(MethodView):
    """Every chapter."""

    @auth_required(blp)
    @conditional
    @blp.response(200, s.ChapterListSchema, headers=ETAG_HEADER)
    def get(self):
        """Chapters in course order."""
        view = services().content.view()
        return cached_content(view, "chapters", _CHAPTERS, lambda: {"items": view.chapter_list})


@blp.route("/chapters/<string:chapter_id>")
class Chapter(MethodView):
    """One chapter."""

    @auth_required(blp)
    @conditional
    @blp.response(200, s.ChapterSchema, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, chapter_id):
        """A chapter with its objectives and sections."""
        return chapter_response(services().content.view(), chapter_id)


def chapter_response(view, chapter_id: str):
    """A chapter of a course view, from the view's cache of encoded bodies (ETag, 304)."""
    return cached_content(view, ("chapter", chapter_id), _CHAPTER, lambda: view.chapter(chapter_id))


@blp.route("/sections/<string:section_id>")
class Section(MethodView):
    """One section."""

    @auth_required(blp)
    @conditional
    @blp.response(200, s.SectionSchema, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, section_id):
        """A section's Markdown and sanitised HTML."""
        view = services().content.view()
        return cached_content(
            view, ("section", section_id), _SECTION, lambda: view.section(section_id)
        )


@blp.route("/search")
class Search(MethodView):
    """Full-text search over sections."""

    @auth_required(blp)
    @blp.arguments(s.SearchQuerySchema, location="query")
    @blp.response(200, s.SearchResultSchema)
    def get(self, query):
        """Sections ranked by BM25, with snippets where matches are in <mark>."""
        view = services().content.view()
        items = view.search(query["q"], query["limit"])
        return json_response(_SEARCH.dump({"query": query["q"], "items": items}))
