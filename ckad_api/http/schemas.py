"""Request and response schemas: the contract the OpenAPI document is generated from."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate


class StrictSchema(ma.Schema):
    """Input schemas refuse unknown fields."""

    class Meta:
        unknown = ma.RAISE


# -- accounts ---------------------------------------------------------------------------
class LearnerSchema(ma.Schema):
    """A learner's account and settings (never the password)."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    email = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(["learner", "admin"]))
    timezone = fields.String(required=True, metadata={"example": "Europe/Paris"})
    desired_retention = fields.Float(required=True)
    new_cards_per_day = fields.Integer(required=True)
    daily_goal = fields.Integer(required=True)
    namespace = fields.Method(
        "_namespace",
        required=True,
        metadata={"type": "string", "description": "The lab namespace bound to the account"},
    )
    version = fields.Integer(required=True, metadata={"description": "Send back to update"})
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)

    def _namespace(self, learner) -> str:
        return learner.lab_namespace()


class RegisterSchema(StrictSchema):
    """Registration: rules are checked by the domain so every field error is reported."""

    username = fields.String(required=True, metadata={"example": "ada"})
    password = fields.String(required=True, load_only=True, metadata={"example": "correct-horse-1"})
    email = fields.String(load_default=None, allow_none=True)
    display_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=100)
    )


class TokenRequestSchema(StrictSchema):
    """Credentials for a new access token."""

    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenSchema(ma.Schema):
    """An access token; send it as `Authorization: Bearer <access_token>`."""

    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds until expiry"})
    expires_at = fields.AwareDateTime(required=True)


class RegisteredSchema(TokenSchema):
    """A new learner and their first token."""

    learner = fields.Nested(LearnerSchema, required=True)


class SettingsSchema(StrictSchema):
    """Partial update of the caller's own settings."""

    display_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    timezone = fields.String()
    desired_retention = fields.Float(metadata={"minimum": 0.70, "maximum": 0.99})
    new_cards_per_day = fields.Integer(strict=True, metadata={"minimum": 0, "maximum": 200})
    daily_goal = fields.Integer(strict=True, metadata={"minimum": 1, "maximum": 1000})
    version = fields.Integer(
        strict=True,
        metadata={
            "description": "The version last read; a stale one gets 409 with the current state"
        },
    )


class AdminLearnerChangeSchema(StrictSchema):
    """What an admin may change on a learner."""

    role = fields.String(validate=validate.OneOf(["learner", "admin"]))
    namespace = fields.String(
        allow_none=True,
        metadata={"description": "Bind a lab namespace; null restores the default ckad-<username>"},
    )
    version = fields.Integer(strict=True)


class PageQuerySchema(StrictSchema):
    """Cursor pagination."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


class LearnerPageSchema(ma.Schema):
    """A page of learners."""

    items = fields.List(fields.Nested(LearnerSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


# -- course -----------------------------------------------------------------------------
class CompetencySchema(ma.Schema):
    """A competency and the sections that teach it."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    sections = fields.List(fields.String(), required=True)


class DomainSchema(ma.Schema):
    """An exam domain with its weight in percent."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    weight = fields.Integer(required=True)
    competencies = fields.List(fields.Nested(CompetencySchema), required=True)


class CourseSchema(ma.Schema):
    """The course: domains and competencies with their weights."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    version = fields.String(required=True)
    kubernetes_version = fields.String(required=True)
    loaded_at = fields.AwareDateTime(required=True)
    domains = fields.List(fields.Nested(DomainSchema), required=True)


class ChapterSummarySchema(ma.Schema):
    """A chapter in the list."""

    id = fields.String(required=True)
    number = fields.Integer(required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    competencies = fields.List(fields.String(), required=True)
    section_count = fields.Integer(required=True)
    question_count = fields.Integer(required=True)


class ChapterListSchema(ma.Schema):
    """Every chapter in course order."""

    items = fields.List(fields.Nested(ChapterSummarySchema), required=True)


class SectionSummarySchema(ma.Schema):
    """A section inside a chapter."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    position = fields.Integer(required=True)
    competencies = fields.List(fields.String(), required=True)
    question_count = fields.Integer(required=True)


class ChapterSchema(ma.Schema):
    """A chapter with its objectives and sections."""

    id = fields.String(required=True)
    number = fields.Integer(required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    objectives = fields.List(fields.String(), required=True)
    competencies = fields.List(fields.String(), required=True)
    question_count = fields.Integer(required=True)
    sections = fields.List(fields.Nested(SectionSummarySchema), required=True)


class SectionSchema(ma.Schema):
    """A section: the Markdown and the rendered, sanitised HTML."""

    id = fields.String(required=True)
    chapter_id = fields.String(required=True)
    chapter_title = fields.String(required=True)
    title = fields.String(required=True)
    position = fields.Integer(required=True)
    competencies = fields.List(fields.String(), required=True)
    question_count = fields.Integer(required=True)
    markdown = fields.String(required=True)
    html = fields.String(required=True, metadata={"description": "Sanitised; safe to insert"})
    previous_section_id = fields.String(allow_none=True, required=True)
    next_section_id = fields.String(allow_none=True, required=True)


class SearchQuerySchema(StrictSchema):
    """Search parameters."""

    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class SearchHitSchema(ma.Schema):
    """A ranked section with a snippet; matches are wrapped in <mark>."""

    section_id = fields.String(required=True)
    chapter_id = fields.String(required=True)
    title = fields.String(required=True)
    score = fields.Float(required=True, metadata={"description": "BM25 score"})
    snippet = fields.String(required=True, metadata={"description": "HTML-escaped, with <mark>"})


class SearchResultSchema(ma.Schema):
    """Search results, best first."""

    query = fields.String(required=True)
    items = fields.List(fields.Nested(SearchHitSchema), required=True)


# -- service ----------------------------------------------------------------------------
class HealthSchema(ma.Schema):
    """Liveness or readiness."""

    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())
