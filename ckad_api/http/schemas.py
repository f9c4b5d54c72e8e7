"""Request and response schemas: the contract the OpenAPI document is generated from."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..domain import accounts as account_rules
from .common import MAX_ID as VERSION_MAX  # versions are 32-bit INTEGER columns, as ids are


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
    """Registration: rules are checked by the domain so every field error is reported.

    The rules are documented here (metadata only) so clients can check before sending."""

    username = fields.String(
        required=True,
        metadata={
            "example": "ada",
            "pattern": account_rules.USERNAME_PATTERN.pattern,
            "minLength": 3,
            "maxLength": 32,
        },
    )
    password = fields.String(
        required=True,
        load_only=True,
        metadata={
            "example": "correct-horse-1",
            "minLength": account_rules.PASSWORD_MIN,
            "maxLength": account_rules.PASSWORD_MAX,
            "description": "Not the username",
        },
    )
    email = fields.String(
        load_default=None,
        allow_none=True,
        metadata={
            "pattern": account_rules.EMAIL_PATTERN.pattern,
            "maxLength": account_rules.EMAIL_MAX,
        },
    )
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
        validate=validate.Range(min=0, max=VERSION_MAX),
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
    version = fields.Integer(strict=True, validate=validate.Range(min=0, max=VERSION_MAX))


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


# -- reviews ----------------------------------------------------------------------------
RATING_NAMES = ["again", "hard", "good", "easy"]


class PublicQuestionSchema(ma.Schema):
    """A question as asked: never its answer or explanation."""

    id = fields.String(required=True)
    type = fields.String(
        required=True,
        metadata={
            "description": "single_choice, multi_choice, "
            "true_false, short_answer, kubectl, manifest, "
            "flashcard"
        },
    )
    prompt = fields.String(required=True, metadata={"description": "Markdown"})
    choices = fields.List(fields.String(), allow_none=True, required=True)
    chapter_id = fields.String(required=True)
    section_id = fields.String(required=True)
    competencies = fields.List(fields.String(), required=True)
    difficulty = fields.Integer(required=True)
    expected_seconds = fields.Integer(required=True)
    has_hint = fields.Boolean(required=True)


class CardSchema(ma.Schema):
    """A learner's card: FSRS state and the version to send back with an answer."""

    question_id = fields.String(required=True)
    state = fields.String(
        required=True, validate=validate.OneOf(["new", "learning", "review", "relearning"])
    )
    due = fields.AwareDateTime(allow_none=True, required=True)
    last_review = fields.AwareDateTime(allow_none=True, required=True)
    stability = fields.Float(allow_none=True, required=True, metadata={"description": "days"})
    difficulty = fields.Float(allow_none=True, required=True)
    retrievability = fields.Float(required=True, metadata={"description": "recall probability now"})
    reps = fields.Integer(required=True)
    lapses = fields.Integer(required=True)
    version = fields.Integer(required=True, metadata={"description": "0 for a card never answered"})


class DueQuerySchema(StrictSchema):
    """Filters for due cards."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))
    chapter = fields.String(load_default=None)
    competency = fields.String(load_default=None)


class DueItemSchema(ma.Schema):
    """A card to review now: the question and the card."""

    question = fields.Nested(PublicQuestionSchema, required=True)
    new = fields.Boolean(required=True)
    card = fields.Nested(CardSchema, required=True)


class DueListSchema(ma.Schema):
    """Due cards (most at risk first), then new cards in course order."""

    items = fields.List(fields.Nested(DueItemSchema), required=True)


class AnswerRequestSchema(StrictSchema):
    """An answer (or, for a flashcard, a self-rating) to a question."""

    answer = fields.Raw(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "By type: choice index, list of indexes, boolean, text, kubectl "
            "command, or YAML manifests"
        },
    )
    rating = fields.String(
        load_default=None,
        validate=validate.OneOf(RATING_NAMES),
        metadata={"description": "Required for flashcards; otherwise may lower the graded rating"},
    )
    elapsed_ms = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(min=0, max=24 * 3600 * 1000)
    )
    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=VERSION_MAX),
        metadata={"description": "The card's version from /reviews/due"},
    )
    mode = fields.String(
        load_default="review",
        validate=validate.OneOf(["review", "practice"]),
        metadata={"description": "practice grades without scheduling"},
    )


class IntervalsSchema(ma.Schema):
    """Seconds until due for each rating."""

    again = fields.Integer(required=True)
    hard = fields.Integer(required=True)
    good = fields.Integer(required=True)
    easy = fields.Integer(required=True)


class AnswerResultSchema(ma.Schema):
    """The graded answer and the card's next schedule."""

    question_id = fields.String(required=True)
    mode = fields.String(required=True)
    correct = fields.Boolean(
        allow_none=True, required=True, metadata={"description": "null for flashcards"}
    )
    expected = fields.Raw(required=True)
    explanation = fields.String(required=True)
    feedback = fields.List(fields.String(), required=True)
    details = fields.Dict(required=True)
    rating = fields.String(required=True)
    card = fields.Nested(CardSchema, required=True)
    next_due = fields.AwareDateTime(allow_none=True, required=True)
    intervals = fields.Nested(IntervalsSchema, required=True)


class UndoRequestSchema(StrictSchema):
    """Undo the last answer on a card."""

    version = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(min=0, max=VERSION_MAX)
    )


class ReviewLogSchema(ma.Schema):
    """One logged review (never deleted; undo marks it)."""

    id = fields.Integer(required=True)
    question_id = fields.String(required=True)
    rating = fields.String(required=True)
    answer = fields.Raw(allow_none=True, required=True)
    correct = fields.Boolean(allow_none=True, required=True)
    elapsed_ms = fields.Integer(allow_none=True, required=True)
    reviewed_at = fields.AwareDateTime(required=True)
    state_before = fields.Dict(allow_none=True, required=True)
    state_after = fields.Dict(required=True)
    undone_at = fields.AwareDateTime(allow_none=True, required=True)


class ReviewLogPageSchema(ma.Schema):
    """A page of review history, newest first."""

    items = fields.List(fields.Nested(ReviewLogSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class MasterySchema(ma.Schema):
    """Mastery of a group of questions."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    questions = fields.Integer(required=True)
    seen = fields.Integer(required=True)
    mastered = fields.Integer(required=True, metadata={"description": "stability >= 21 days"})
    retrievability = fields.Float(allow_none=True, required=True)
    score = fields.Float(
        required=True,
        metadata={
            "description": "Expected share of the questions recalled now (unseen count as 0)"
        },
    )


class DomainProgressSchema(MasterySchema):
    """A domain's mastery and its competencies'."""

    weight = fields.Integer(required=True)
    competencies = fields.List(fields.Nested(MasterySchema), required=True)


class ProgressSchema(ma.Schema):
    """The learner's progress."""

    domains = fields.List(fields.Nested(DomainProgressSchema), required=True)
    streak_days = fields.Integer(required=True)
    reviews_today = fields.Integer(required=True)
    due_today = fields.Integer(required=True)
    cards_seen = fields.Integer(required=True)
    true_retention = fields.Float(allow_none=True, required=True)
    true_retention_reviews = fields.Integer(required=True)
    readiness = fields.Float(required=True, metadata={"description": "0-100, see README"})


class ForecastQuerySchema(StrictSchema):
    """How many days to forecast."""

    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))


class ForecastDaySchema(ma.Schema):
    """Due count on one local day."""

    date = fields.Date(required=True)
    due = fields.Integer(required=True)


class ForecastSchema(ma.Schema):
    """Due counts per day in the learner's timezone."""

    items = fields.List(fields.Nested(ForecastDaySchema), required=True)


# -- labs -------------------------------------------------------------------------------
class LabSummarySchema(ma.Schema):
    """A lab in the list, with the caller's attempts."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    chapter_id = fields.String(required=True)
    competencies = fields.List(fields.String(), required=True)
    difficulty = fields.Integer(required=True)
    summary = fields.String(required=True)
    check_count = fields.Integer(required=True)
    attempts = fields.Integer(required=True)
    best_score = fields.Float(allow_none=True, required=True)
    passed = fields.Boolean(required=True)


class LabListSchema(ma.Schema):
    """Every lab."""

    items = fields.List(fields.Nested(LabSummarySchema), required=True)


class LabCheckInfoSchema(ma.Schema):
    """What a check requires (its rule stays on the server)."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    live = fields.Boolean(required=True, metadata={"description": "needs a live cluster"})
    weight = fields.Integer(required=True)
    hint = fields.String(required=True)


class LabSchema(ma.Schema):
    """A lab's task."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    chapter_id = fields.String(required=True)
    competencies = fields.List(fields.String(), required=True)
    difficulty = fields.Integer(required=True)
    summary = fields.String(required=True)
    instructions = fields.String(required=True, metadata={"description": "Markdown"})
    instructions_html = fields.String(required=True, metadata={"description": "Sanitised HTML"})
    hints = fields.List(fields.String(), required=True)
    start = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Starting manifest, for labs that begin broken"},
    )
    checks = fields.List(fields.Nested(LabCheckInfoSchema), required=True)


class VerifyRequestSchema(StrictSchema):
    """What to verify: the live namespace, or pasted manifests."""

    source = fields.String(required=True, validate=validate.OneOf(["cluster", "manifests"]))
    manifests = fields.String(
        load_default=None,
        validate=validate.Length(max=512_000),
        metadata={"description": "Multi-document YAML (source manifests)"},
    )
    namespace = fields.String(
        load_default=None,
        metadata={"description": "Admins only: verify another namespace (source cluster)"},
    )


class CheckResultSchema(ma.Schema):
    """One check's outcome."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["passed", "failed", "skipped"]))
    message = fields.String(required=True, metadata={"description": "Found versus expected"})
    hint = fields.String(allow_none=True, required=True)
    weight = fields.Integer(required=True)


class AttemptSchema(ma.Schema):
    """A verification of a lab."""

    attempt_id = fields.Integer(required=True)
    lab_id = fields.String(required=True)
    source = fields.String(required=True)
    namespace = fields.String(allow_none=True, required=True)
    score = fields.Float(required=True, metadata={"description": "0-100, weighted"})
    passed = fields.Boolean(required=True)
    checks = fields.List(fields.Nested(CheckResultSchema), required=True)
    warnings = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Schema problems in submitted manifests"},
    )
    created_at = fields.AwareDateTime(required=True)


class AttemptPageSchema(ma.Schema):
    """A page of attempts, newest first."""

    items = fields.List(fields.Nested(AttemptSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class SolutionSchema(ma.Schema):
    """A lab's reference solution."""

    lab_id = fields.String(required=True)
    solution = fields.String(required=True, metadata={"description": "Multi-document YAML"})


# -- chat -------------------------------------------------------------------------------
class CitationSchema(ma.Schema):
    """A course section a reply quotes."""

    section_id = fields.String(required=True)
    title = fields.String(required=True)
    chapter_id = fields.String(required=True)


class ActionSchema(ma.Schema):
    """A suggested next message."""

    label = fields.String(required=True)
    text = fields.String(required=True)


class ChatQuestionSchema(ma.Schema):
    """A question the tutor asks (never its answer)."""

    id = fields.String(required=True)
    type = fields.String(required=True)
    prompt = fields.String(required=True)
    choices = fields.List(fields.String(), allow_none=True, required=True)
    number = fields.Integer(required=True)
    of = fields.Integer(required=True)


class ChatMessageSchema(ma.Schema):
    """A message of a conversation."""

    id = fields.Integer(required=True)
    role = fields.String(required=True, validate=validate.OneOf(["learner", "tutor"]))
    text = fields.String(required=True, metadata={"description": "Markdown"})
    intent = fields.String(allow_none=True, required=True)
    citations = fields.List(fields.Nested(CitationSchema), required=True)
    question = fields.Nested(ChatQuestionSchema, allow_none=True, required=True)
    actions = fields.List(fields.Nested(ActionSchema), required=True)
    result = fields.Dict(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)


class ConversationSchema(ma.Schema):
    """A new conversation and its opening message."""

    id = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    messages = fields.List(fields.Nested(ChatMessageSchema), required=True)


class ChatSendSchema(StrictSchema):
    """What the learner says."""

    text = fields.String(required=True, validate=validate.Length(min=1, max=20_000))


class ChatPageQuerySchema(StrictSchema):
    """Messages after a cursor."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


class ChatPageSchema(ma.Schema):
    """Messages, oldest first."""

    items = fields.List(fields.Nested(ChatMessageSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


# -- slack ------------------------------------------------------------------------------
class SlackLinkCodeSchema(ma.Schema):
    """A one-time code that links a Slack user to this account (`/ckad link CODE`)."""

    code = fields.String(required=True, metadata={"example": "ABCD-EFGH"})
    command = fields.String(
        required=True,
        metadata={"example": "/ckad link ABCD-EFGH", "description": "What to type in Slack"},
    )
    expires_at = fields.AwareDateTime(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds until expiry"})


class ReminderSchema(ma.Schema):
    """The daily Slack reminder: a direct message with the due count and a Start button."""

    enabled = fields.Boolean(required=True)
    time = fields.String(required=True, metadata={"example": "08:30", "description": "HH:MM"})
    timezone = fields.String(
        required=True,
        metadata={"example": "Europe/Paris", "description": "The zone the time is read in"},
    )
    slack_linked = fields.Boolean(
        required=True, metadata={"description": "Whether a Slack user is linked to receive it"}
    )


class ReminderChangeSchema(StrictSchema):
    """Partial change of the daily Slack reminder."""

    enabled = fields.Boolean(truthy={True}, falsy={False})
    time = fields.String(metadata={"example": "08:30", "description": "HH:MM, 24-hour clock"})
    timezone = fields.String(
        metadata={"description": "IANA zone; default: the Slack profile's or the account's"}
    )
