"""Slack use cases: who a Slack user is, the tutor in Slack, linking accounts, reminders.

Nothing here knows Slack's APIs or Block Kit: the Bolt listeners (`ckad_api.slack`) call
these methods and render what they return; reminders are handed to a `send` callable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from ..domain import tutor as t
from ..domain.accounts import USERNAME_PATTERN, Learner, valid_timezone
from ..domain.errors import Conflict, NotFound, ValidationFailed
from .ports import Clock, UnitOfWork
from .tutor import new_state

log = logging.getLogger(__name__)

LINK_CODE_TTL = dt.timedelta(minutes=15)
# No 0/O, 1/I/L: codes are read off one screen and typed into another.
LINK_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 8
# A password hash no password matches: a Slack-only account cannot sign in on the web.
NO_PASSWORD = "!slack-only"
DEFAULT_REMINDER_TIME = "09:00"
REMINDER_WINDOW = dt.timedelta(hours=3)  # a run this long after the chosen time still sends
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$")  # seconds are dropped

# How a Slack entry point wants the conversation state used (see `converse`).
KINDS = ("chat", "ask", "quiz", "answer", "once")


class StaleQuestion(Conflict):
    """A button or form answered a question that is no longer the open one."""

    type_slug = "stale-question"
    title = "That question is closed"


class LinkFailed(Conflict):
    """A link code was wrong, expired, used, or the accounts cannot be merged."""

    type_slug = "link-failed"
    title = "Could not link"


@dataclasses.dataclass
class SlackUser:
    """A Slack user as the services see them: the identity and the learner they study as."""

    identity_id: int
    team_id: str
    user_id: str
    learner: Learner
    conversation_id: str | None
    owns_learner: bool


@dataclasses.dataclass(frozen=True)
class Said:
    """The tutor's reply to something said in Slack, with what the renderer needs."""

    reply: t.Reply
    message_id: int | None  # the stored tutor message (for a later "Next")
    open_question: str | None  # the question now waiting for an answer, if any
    practice: bool = False


@dataclasses.dataclass(frozen=True)
class LinkResult:
    """What linking did."""

    learner: Learner
    merged: dict[str, int]


@dataclasses.dataclass(frozen=True)
class ReminderSettings:
    """A learner's daily reminder."""

    enabled: bool
    time: str
    timezone: str
    slack_linked: bool


@dataclasses.dataclass(frozen=True)
class ReminderJob:
    """One reminder to send now."""

    learner: Learner
    team_id: str
    user_id: str
    local_date: dt.date
    due: int
    new: int


def hash_code(code: str) -> str:
    """The stored form of a link code (normalised: case and dashes do not matter)."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def normalise_code(code: str) -> str:
    """`abcd-efgh`, `ABCD EFGH` and `abcdefgh` are the same code."""
    return re.sub(r"[\s-]", "", code or "").upper()


def parse_time(value: str) -> str:
    """`8:30` or `08:30` as `08:30`; ValidationFailed for anything else."""
    match = _TIME.match((value or "").strip())
    if not match:
        raise ValidationFailed(
            "the time must be HH:MM on a 24-hour clock",
            errors={"time": ["must be HH:MM on a 24-hour clock, e.g. 08:30"]},
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def open_question(state: dict[str, Any]) -> str | None:
    """The question the conversation waits on: the quiz's current one, or an offered one."""
    quiz = state.get("quiz")
    if state.get("mode") == "quiz" and quiz and quiz["index"] < len(quiz["ids"]):
        return quiz["ids"][quiz["index"]]
    return state.get("offered")


def reply_from_dict(payload: dict[str, Any]) -> t.Reply:
    """A stored reply (`Reply.to_dict()`) as a `Reply` again."""
    return t.Reply(
        intent=payload.get("intent", ""),
        text=payload.get("text", ""),
        citations=tuple(t.Citation(**c) for c in payload.get("citations") or ()),
        question=payload.get("question"),
        actions=tuple(t.Action(**a) for a in payload.get("actions") or ()),
        result=payload.get("result"),
    )


class SlackService:
    """Use cases of the Slack app."""

    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock, tutor, reviews):
        self._uow = uow
        self._clock = clock
        self._tutor = tutor
        self._reviews = reviews

    # -- identities -----------------------------------------------------------------------
    def identify(self, team_id: str, user_id: str, name: str | None = None) -> SlackUser:
        """The Slack user's identity; on first use, a learner account is made for them."""
        if not team_id or not user_id:
            raise ValidationFailed("a Slack request without a workspace or user id")
        found = self._find(team_id, user_id)
        if found is not None:
            return found
        now = self._clock.now()
        with self._uow() as uow:
            learner = None
            for username in _usernames(team_id, user_id):
                try:
                    learner = uow.learners.add(
                        username=username,
                        email=None,
                        password_hash=NO_PASSWORD,
                        display_name=(name or None) and name[:100],
                        role="learner",
                        timezone="UTC",
                        desired_retention=0.9,
                        new_cards_per_day=20,
                        daily_goal=50,
                        namespace=None,
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                    break
                except Conflict:
                    continue
            if learner is None:  # pragma: no cover - five taken names in a row
                raise Conflict("could not make an account for this Slack user; try again")
            row = uow.slack.add_identity(
                team_id=team_id,
                user_id=user_id,
                learner_id=learner.id,
                owns_learner=True,
                conversation_id=None,
                created_at=now,
                updated_at=now,
            )
            if row is not None:
                uow.commit()
                return _user(row, learner)
        # Another request made this user's identity first: use theirs (ours rolled back).
        found = self._find(team_id, user_id)
        if found is None:  # pragma: no cover - the racing insert committed, so it is there
            raise Conflict("the Slack identity could not be created; try again")
        return found

    def _find(self, team_id: str, user_id: str) -> SlackUser | None:
        with self._uow() as uow:
            row = uow.slack.identity(team_id, user_id)
            if row is None:
                return None
            learner = uow.learners.get(row.learner_id)
            return _user(row, learner)

    # -- the tutor in Slack ---------------------------------------------------------------
    def converse(self, user: SlackUser, text: str, kind: str = "chat") -> Said:
        """Say `text` to the tutor in the user's Slack conversation and store both messages.

        `kind` says how the conversation's state is used:
        - `chat`: as it is (a DM, a suggested action);
        - `ask`: a course question, answered even in the middle of a quiz, which waits;
        - `quiz`: start a new quiz (any running one is replaced);
        - `once`: a stand-alone request (help, due, progress, a lab check); state untouched.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if not isinstance(text, str) or not text.strip():
            raise ValidationFailed("say something", errors={"text": ["must not be empty"]})
        conversation_id, state, version = self._conversation(user)
        idle = {**state, "mode": "idle", "quiz": None, "offered": None}
        given = state if kind in ("chat", "answer") else idle
        reply, after = self._tutor.reply(user.learner, text, given)
        if kind == "once":
            after = state
        elif kind == "ask" and after.get("mode") != "quiz":
            after = {**state, "offered": after.get("offered")}
        now = self._clock.now()
        with self._uow() as uow:
            if after != state and not uow.conversations.save_state(
                conversation_id, version, after, now
            ):
                raise StaleQuestion("another answer in this conversation was recorded first")
            uow.conversations.add_message(conversation_id, "learner", text, None, now)
            message = uow.conversations.add_message(
                conversation_id, "tutor", reply.text, reply.to_dict(), now
            )
            uow.commit()
            message_id = message.id
        quiz = after.get("quiz") or {}
        return Said(reply, message_id, open_question(after), bool(quiz.get("practice")))

    def answer(self, user: SlackUser, question_id: str, text: str) -> Said:
        """Answer the open question `question_id` (a button or a form); stale ones refused."""
        _, state, _ = self._conversation(user)
        if not question_id or open_question(state) != question_id:
            raise StaleQuestion(
                "that question is no longer open: it was answered, skipped or replaced"
            )
        return self.converse(user, text, "answer")

    def stored_reply(self, user: SlackUser, message_id: int) -> t.Reply:
        """A tutor message of the user's Slack conversation (for "Next")."""
        if user.conversation_id is None:
            raise NotFound("there is no conversation yet")
        with self._uow() as uow:
            if uow.conversations.get(user.conversation_id, user.learner.id) is None:
                raise NotFound("the conversation is gone")
            rows = uow.conversations.messages(user.conversation_id, message_id - 1, 1)
        if not rows or rows[0].id != message_id or rows[0].role != "tutor":
            raise NotFound(f"there is no tutor message {message_id}")
        return reply_from_dict(rows[0].payload or {})

    def open_question(self, user: SlackUser) -> str | None:
        """The question the user's Slack conversation waits on, if any."""
        return open_question(self._conversation(user)[1])

    def _conversation(self, user: SlackUser) -> tuple[str, dict[str, Any], int]:
        with self._uow() as uow:
            if user.conversation_id:
                row = uow.conversations.get(user.conversation_id, user.learner.id)
                if row is not None:
                    return row.id, dict(row.state), row.version
            now = self._clock.now()
            row = uow.conversations.create(secrets.token_hex(16), user.learner.id, new_state(), now)
            uow.slack.update_identity(user.identity_id, conversation_id=row.id, updated_at=now)
            uow.commit()
            user.conversation_id = row.id  # later calls with this value find it
            return row.id, dict(row.state), row.version

    # -- linking --------------------------------------------------------------------------
    def link_code(self, learner: Learner) -> tuple[str, dt.datetime]:
        """A new one-time code for `/ckad link CODE`; earlier unused codes stop working."""
        raw = "".join(secrets.choice(LINK_ALPHABET) for _ in range(LINK_CODE_LENGTH))
        code = f"{raw[:4]}-{raw[4:]}"
        now = self._clock.now()
        expires = now + LINK_CODE_TTL
        with self._uow() as uow:
            uow.slack.add_code(hash_code(code), learner.id, now, expires)
            uow.commit()
        return code, expires

    def link(self, user: SlackUser, code: str) -> LinkResult:
        """Link the Slack user to the learner who made `code`, merging the Slack-only history.

        One transaction: the code is used, the histories merged and the identity re-pointed,
        or nothing happens.
        """
        if len(normalise_code(code)) != LINK_CODE_LENGTH:
            raise LinkFailed("that is not a link code: it has 8 letters and digits, e.g. ABCD-EFGH")
        now = self._clock.now()
        with self._uow() as uow:
            target_id = uow.slack.use_code(hash_code(code), now)
            if target_id is None:
                raise LinkFailed("that code is wrong, expired or already used; make a new one")
            row = uow.slack.identity(user.team_id, user.user_id)
            if row is None:  # pragma: no cover - `user` came from identify()
                raise NotFound("unknown Slack user")
            merged: dict[str, int] = {}
            if row.learner_id != target_id:
                if not row.owns_learner:
                    raise LinkFailed(
                        "this Slack user is already linked to another account; "
                        "ask an admin to move it"
                    )
                merged = uow.merges.merge(row.learner_id, target_id, now)
                uow.slack.update_identity(
                    row.id, learner_id=target_id, owns_learner=False, updated_at=now
                )
            learner = uow.learners.get(target_id)
            uow.commit()
        return LinkResult(learner, merged)

    # -- reminders ------------------------------------------------------------------------
    def reminder_settings(self, learner: Learner) -> ReminderSettings:
        """The learner's reminder (off at 09:00 in their timezone when never set)."""
        with self._uow() as uow:
            row = uow.slack.reminder(learner.id)
            linked = bool(uow.slack.identities_of(learner.id))
        if row is None:
            return ReminderSettings(False, DEFAULT_REMINDER_TIME, learner.timezone, linked)
        return ReminderSettings(
            row.enabled, row.local_time, row.timezone or learner.timezone, linked
        )

    def set_reminder(
        self,
        learner: Learner,
        *,
        enabled: bool | None = None,
        time: str | None = None,
        timezone: str | None = None,
        identity_id: int | None = None,
    ) -> ReminderSettings:
        """Switch the reminder on or off, at a local time, messaging a Slack identity."""
        if time is not None:
            time = parse_time(time)
        if timezone is not None and not valid_timezone(timezone):
            raise ValidationFailed(
                "unknown timezone", errors={"timezone": ["is not an IANA time zone name"]}
            )
        now = self._clock.now()
        with self._uow() as uow:
            row = uow.slack.reminder(learner.id)
            if identity_id is None:
                identities = uow.slack.identities_of(learner.id)
                if row is not None:
                    identity_id = row.identity_id
                elif identities:
                    identity_id = identities[0].id
                elif enabled:
                    raise Conflict(
                        "reminders are sent on Slack: link your Slack account first "
                        "(POST /api/v1/me/slack-link-code, then /ckad link CODE in Slack)"
                    )
            if identity_id is not None:
                values: dict[str, Any] = {"identity_id": identity_id, "updated_at": now}
                if enabled is not None:
                    values["enabled"] = enabled
                if time is not None or row is None:
                    values["local_time"] = time or DEFAULT_REMINDER_TIME
                if timezone is not None:
                    values["timezone"] = timezone
                if row is None:
                    values.setdefault("enabled", False)
                uow.slack.save_reminder(learner.id, **values)
                uow.commit()
        return self.reminder_settings(learner)

    def due_reminders(
        self, now: dt.datetime, window: dt.timedelta = REMINDER_WINDOW
    ) -> list[tuple[Any, Any, Learner, dt.date]]:
        """Switched-on reminders whose local time has come today (within `window`)."""
        with self._uow() as uow:
            rows = uow.slack.enabled_reminders()
        ready = []
        for reminder, identity, learner in rows:
            zone = ZoneInfo(reminder.timezone or learner.timezone)
            local = now.astimezone(zone)
            hour, minute = (int(p) for p in reminder.local_time.split(":"))
            at = dt.datetime.combine(local.date(), dt.time(hour, minute), zone)
            if at <= local < at + window:
                ready.append((reminder, identity, learner, local.date()))
        return ready

    def remind(
        self,
        send: Callable[[ReminderJob], None],
        *,
        window: dt.timedelta = REMINDER_WINDOW,
        retryable: tuple[type[BaseException], ...] = (),
    ) -> dict[str, int]:
        """Send today's reminders that are due now, each at most once a day.

        For each learner, a row for (learner, local date) is inserted and committed before
        anything is sent; the unique key makes a second insert fail, so overlapping runs and
        reruns never send twice. A learner with nothing to do gets no message (the row says
        `skipped`). A send that certainly did not leave (`retryable` errors, e.g. a refused
        connection) gives its claim back for the next run; any other failure keeps it.
        """
        counts = {"sent": 0, "skipped": 0, "failed": 0, "already": 0}
        now = self._clock.now()
        for _, identity, learner, day in self.due_reminders(now, window):
            with self._uow() as uow:
                send_id = uow.slack.claim_send(learner.id, day, now)
                uow.commit()
            if send_id is None:
                counts["already"] += 1
                continue
            items = self._reviews.due(learner, 200)
            due = sum(1 for i in items if not i["new"])
            new = sum(1 for i in items if i["new"])
            status, detail = "sent", None
            if due + new == 0:
                status = "skipped"
            else:
                job = ReminderJob(learner, identity.team_id, identity.user_id, day, due, new)
                try:
                    send(job)
                except retryable as exc:
                    log.warning("reminder for learner %s not sent: %s", learner.id, exc)
                    with self._uow() as uow:
                        uow.slack.release_send(send_id)
                        uow.commit()
                    counts["failed"] += 1
                    continue
                except Exception as exc:  # noqa: BLE001 - recorded; the run goes on
                    log.warning("reminder for learner %s failed: %s", learner.id, exc)
                    status, detail = "failed", str(exc)[:200]
            with self._uow() as uow:
                uow.slack.finish_send(
                    send_id, status, self._clock.now(), due_count=due, detail=detail
                )
                uow.commit()
            counts[status] += 1
        return counts


def _user(row: Any, learner: Learner) -> SlackUser:
    return SlackUser(
        identity_id=row.id,
        team_id=row.team_id,
        user_id=row.user_id,
        learner=learner,
        conversation_id=row.conversation_id,
        owns_learner=row.owns_learner,
    )


def _usernames(team_id: str, user_id: str):
    """Usernames to try for a Slack-only learner: readable first, then unique fallbacks."""
    readable = f"s-{team_id}-{user_id}".lower()
    if USERNAME_PATTERN.match(readable):
        yield readable
    digest = hashlib.sha256(f"{team_id}:{user_id}".encode()).hexdigest()
    yield f"s-{digest[:20]}"
    for _ in range(3):
        yield f"s-{secrets.token_hex(10)}"
