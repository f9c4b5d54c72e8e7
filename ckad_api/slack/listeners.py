"""Bolt listeners: `/ckad` commands, buttons, the answer form and direct messages.

Thin, like the HTTP views: parse what Slack sent, call one `SlackService` method, render the
reply with `blocks`. Quick work answers in the acknowledgement itself; a lab check against
the cluster is acknowledged at once and finished by a lazy listener, which posts the result
to the command's `response_url`.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from ..domain.accounts import valid_timezone
from ..domain.errors import DomainError
from ..services.slack import SlackUser
from . import blocks

COMMAND = "/ckad"
log = logging.getLogger(__name__)


def split_command(text: str | None) -> tuple[str, str]:
    """`/ckad quiz probes` → ("quiz", "probes"); an empty command is "help"."""
    words = (text or "").strip().split(maxsplit=1)
    if not words:
        return "help", ""
    return words[0].lower(), (words[1] if len(words) > 1 else "").strip()


def quiz_request(rest: str) -> tuple[str, bool]:
    """`/ckad quiz [N] [topic] [practice] [share]` as what to tell the tutor, and sharing."""
    words = rest.split()
    share = any(w.lower() in ("share", "--share") for w in words)
    practice = any(w.lower() in ("practice", "practise") for w in words)
    words = [w for w in words if w.lower() not in ("share", "--share", "practice", "practise")]
    count = next((w for w in words if w.isdigit()), None)
    topic = " ".join(w for w in words if w != count)
    text = "quiz me"
    if count:
        text += f" {count} questions"
    if topic:
        text += f" on {topic}"
    if practice:
        text += " practice"
    return text, share


def _is_verify(body: dict[str, Any]) -> bool:
    sub, rest = split_command(body.get("text"))
    return sub in ("verify", "check") and bool(rest)


def _is_not_verify(body: dict[str, Any]) -> bool:
    return not _is_verify(body)


def _is_direct_message(event: dict[str, Any]) -> bool:
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool((event.get("text") or "").strip())
    )


def _ephemeral(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "response_type": "ephemeral"}


def register(bolt: App, services: Any) -> None:
    """Attach every listener to `bolt`; `services` is the app's `Services`."""
    slack = services.slack

    def user_of(context, body: dict[str, Any]) -> SlackUser:
        team = context.team_id or context.enterprise_id
        who = body.get("user") if isinstance(body.get("user"), dict) else {}
        name = body.get("user_name") or who.get("name") or who.get("username")
        return slack.identify(team, context.user_id, name)

    def not_theirs(respond, data: dict[str, Any], context) -> bool:
        """A shared quiz answers only its owner; anyone else is told so, privately."""
        owner = data.get("o")
        if owner and owner != context.user_id:
            respond(
                **_ephemeral(
                    blocks.slack_note(
                        f"This is <@{blocks.escape(owner)}>'s quiz. "
                        "Start your own with `/ckad quiz`."
                    )
                ),
                replace_original=False,
            )
            return True
        return False

    def show(respond, said, owner: str, *, replace: bool, answered: bool) -> None:
        """Put a reply on screen: replacing the message pressed, or as a new one."""
        reply = said.reply
        aside = reply.intent == "hint" or (
            reply.intent == "answer" and reply.result is None and not reply.actions
        )
        before, question = blocks.split_question(reply)
        payload = blocks.render(
            reply,
            owner=owner,
            open_question=said.open_question,
            practice=said.practice,
            answered_message=said.message_id if answered and question and before else None,
        )
        if aside or not replace:
            respond(**_ephemeral(payload), replace_original=False)
        else:
            respond(**payload, replace_original=True)

    def stale(respond, exc: DomainError) -> None:
        respond(**_ephemeral(blocks.note(f"⚠️ {exc.detail}")), replace_original=False)

    # -- /ckad ----------------------------------------------------------------------------
    def ckad_command(ack, body, client, context):
        """Every `/ckad` subcommand but a lab check: answered in the acknowledgement."""
        sub, rest = split_command(body.get("text"))
        try:
            payload, public = _command(sub, rest, body, client, context)
        except DomainError as exc:
            payload, public = blocks.note(f"⚠️ {exc.detail}"), False
        ack(**payload, response_type="in_channel" if public else "ephemeral")

    def _command(sub: str, rest: str, body, client, context) -> tuple[dict[str, Any], bool]:
        if sub in ("help", "?"):
            return blocks.help_message(), False
        user = user_of(context, body)
        owner = context.user_id
        if sub == "quiz":
            text, share = quiz_request(rest)
            said = slack.converse(user, text, "quiz")
            payload = blocks.render(
                said.reply,
                owner=owner,
                open_question=said.open_question,
                practice=said.practice,
            )
            return payload, share and said.open_question is not None
        if sub in ("due", "progress", "verify", "check"):
            text = {"due": "what's due", "progress": "how am I doing"}.get(sub, "check my lab")
            said = slack.converse(user, text, "once")
            return blocks.render(said.reply, owner=owner), False
        if sub == "link":
            if not rest:
                return blocks.note(
                    "Make a code in the web or mobile app (Settings → Slack), then send "
                    "`/ckad link ABCD-EFGH`."
                ), False
            result = slack.link(user, rest)
            merged = result.merged
            text = f"✅ Linked: Slack now uses the account **{result.learner.username}**."
            if merged:
                text += (
                    f" Merged {merged['cards']} card(s), {merged['review_logs']} review(s) "
                    f"and {merged['lab_attempts']} lab attempt(s) from your Slack history."
                )
            return blocks.note(text), False
        if sub == "remind":
            return blocks.note(_remind(user, rest, client)), False
        # Anything else is a question: `/ckad what is a pod` works like `/ckad ask ...`.
        question = rest if sub == "ask" else f"{sub} {rest}".strip()
        if not question:
            return blocks.note("Ask me something, e.g. `/ckad ask liveness vs readiness`."), False
        said = slack.converse(user, question, "ask")
        return blocks.render(said.reply, owner=owner, open_question=said.open_question), False

    def _remind(user: SlackUser, rest: str, client) -> str:
        words = rest.lower().split()
        if words[:1] == ["off"]:
            slack.set_reminder(user.learner, enabled=False, identity_id=user.identity_id)
            return "🔕 Daily reminders are off. Turn them on with `/ckad remind on 08:30`."
        if words[:1] == ["on"]:
            timezone = _slack_timezone(client, user.user_id)
            settings = slack.set_reminder(
                user.learner,
                enabled=True,
                time=words[1] if len(words) > 1 else None,
                timezone=timezone,
                identity_id=user.identity_id,
            )
            return (
                f"🔔 Daily reminders are on: I'll message you at **{settings.time}** "
                f"({settings.timezone}) when cards are waiting. `/ckad remind off` stops them."
            )
        settings = slack.reminder_settings(user.learner)
        state = f"on at {settings.time} ({settings.timezone})" if settings.enabled else "off"
        return f"Daily reminders are {state}. Use `/ckad remind on [HH:MM]` or `/ckad remind off`."

    bolt.command(COMMAND, matchers=[_is_not_verify])(ckad_command)

    def ack_lab_check(ack, body):
        """A lab check reads the cluster: acknowledged now, finished by `finish_lab_check`."""
        lab = split_command(body.get("text"))[1].split()[0]
        ack(
            **_ephemeral(
                blocks.note(f"⏳ Checking the **{lab}** lab in your namespace… the result follows.")
            )
        )

    def finish_lab_check(body, respond, context):
        lab = split_command(body.get("text"))[1].split()[0]
        try:
            user = user_of(context, body)
            said = slack.converse(user, f"check my {lab} lab", "once")
            payload = blocks.render(said.reply, owner=context.user_id)
        except DomainError as exc:
            payload = blocks.note(f"⚠️ {exc.detail}")
        respond(**_ephemeral(payload))

    bolt.command(COMMAND, matchers=[_is_verify])(ack=ack_lab_check, lazy=[finish_lab_check])

    # -- buttons --------------------------------------------------------------------------
    @bolt.action(re.compile(r"^ckad_(say|act)_\d+$"))
    def press(ack, action, body, respond, context):
        """An answer, a quiz control (guarded by the open question) or a suggestion."""
        ack()
        data = blocks.parse_value(action.get("value"))
        if not data.get("t") or not_theirs(respond, data, context):
            return
        user = user_of(context, body)
        try:
            if data.get("q"):
                said = slack.answer(user, data["q"], data["t"])
            else:
                said = slack.converse(user, data["t"], "chat")
        except DomainError as exc:
            stale(respond, exc)
            return
        owner = data.get("o") or context.user_id
        guarded = bool(data.get("q"))
        show(respond, said, owner, replace=guarded, answered=guarded)

    @bolt.action("ckad_picks")
    def tick(ack):
        """Ticking a checkbox changes nothing until "Check my picks"."""
        ack()

    @bolt.action("ckad_submit")
    def submit_picks(ack, action, body, respond, context):
        """A multiple-choice answer: the ticked boxes."""
        ack()
        data = blocks.parse_value(action.get("value"))
        if not_theirs(respond, data, context):
            return
        picks = [
            option["value"]
            for block in (body.get("state") or {}).get("values", {}).values()
            for action_id, element in block.items()
            if action_id == "ckad_picks"
            for option in element.get("selected_options") or []
        ]
        if not picks:
            respond(
                **_ephemeral(blocks.note("Tick at least one choice first.")), replace_original=False
            )
            return
        try:
            said = slack.answer(user_of(context, body), data.get("q"), ", ".join(sorted(picks)))
        except DomainError as exc:
            stale(respond, exc)
            return
        show(respond, said, data.get("o") or context.user_id, replace=True, answered=True)

    @bolt.action("ckad_open_answer")
    def open_answer(ack, action, body, client, respond, context):
        """A free-text question: a form to type the command, term or manifest in."""
        ack()
        data = blocks.parse_value(action.get("value"))
        if not_theirs(respond, data, context):
            return
        user = user_of(context, body)
        if slack.open_question(user) != data.get("q"):
            respond(
                **_ephemeral(blocks.note("⚠️ That question is no longer open.")),
                replace_original=False,
            )
            return
        question = services.content.view().questions.get(data["q"])
        if question is None:
            return
        metadata = {"q": question.id, "o": data.get("o"), "r": body.get("response_url")}
        client.views_open(
            trigger_id=body["trigger_id"],
            view=blocks.answer_modal({"type": question.type, "prompt": question.prompt}, metadata),
        )

    @bolt.view("ckad_answer")
    def submit_answer(ack, view, body, context):
        """The form's answer: graded before the form closes, so a problem shows in it."""
        text = (
            ((view.get("state") or {}).get("values", {}).get("answer", {}).get("text") or {}).get(
                "value"
            )
            or ""
        ).strip()
        if not text:
            ack(response_action="errors", errors={"answer": "Type your answer first."})
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        try:
            said = slack.answer(user_of(context, body), meta.get("q"), text)
        except DomainError as exc:
            ack(response_action="errors", errors={"answer": exc.detail[:150]})
            return
        ack()
        if meta.get("r"):

            def respond(**payload):
                WebhookClient(meta["r"]).send_dict(payload)

            show(respond, said, meta.get("o") or context.user_id, replace=True, answered=True)

    @bolt.action("ckad_next")
    def next_question(ack, action, body, respond, context):
        """Show the question that follows an answered one."""
        ack()
        data = blocks.parse_value(action.get("value"))
        if not_theirs(respond, data, context):
            return
        user = user_of(context, body)
        try:
            reply = slack.stored_reply(user, int(data.get("m", 0)))
        except (DomainError, ValueError) as exc:
            stale(respond, exc if isinstance(exc, DomainError) else DomainError(str(exc)))
            return
        payload = blocks.render(reply, owner=data.get("o") or context.user_id, question_only=True)
        respond(**payload, replace_original=True)

    @bolt.action("ckad_start")
    def start(ack, body, respond, context):
        """The reminder's Start button: a quiz, due cards first, in place of the reminder."""
        ack()
        user = user_of(context, body)
        said = slack.converse(user, "quiz me", "quiz")
        payload = blocks.render(
            said.reply,
            owner=context.user_id,
            open_question=said.open_question,
            practice=said.practice,
        )
        respond(**payload, replace_original=True)

    # -- direct messages ------------------------------------------------------------------
    def ack_event(ack):
        ack()

    def reply_in_dm(event, client, context):
        """A direct message to the app: the tutor answers there, as in the web chat."""
        user = slack.identify(context.team_id or context.enterprise_id, event["user"])
        try:
            said = slack.converse(user, event["text"], "chat")
            payload = blocks.render(
                said.reply,
                owner=event["user"],
                open_question=said.open_question,
                practice=said.practice,
            )
        except DomainError as exc:
            payload = blocks.note(f"⚠️ {exc.detail}")
        client.chat_postMessage(channel=event["channel"], **payload)

    bolt.event("message", matchers=[_is_direct_message])(ack=ack_event, lazy=[reply_in_dm])

    @bolt.event("message")
    def other_messages(ack):
        """Edits, joins and the app's own messages: nothing to do."""
        ack()


def _slack_timezone(client, user_id: str) -> str | None:
    """The user's timezone from their Slack profile (users:read), or None."""
    try:
        zone = (client.users_info(user=user_id).get("user") or {}).get("tz")
    except (SlackApiError, OSError) as exc:
        log.info("users.info failed for %s: %s", user_id, exc)
        return None
    return zone if valid_timezone(zone) else None


__all__ = ["COMMAND", "register"]
