"""A learner's whole journey through the web app, in a real browser against a real server.

Sign up, read a section, answer one question of each type the course has (each with its
own input: number keys, a kubectl command line, the YAML editor...), lower a rating, undo,
practise, see the dashboard change, verify a lab from pasted manifests with one failing
check, ask the tutor and answer its question in place, change settings, use the app at
phone width, sign out, and see API errors shown as their detail. Screenshots at desktop
and phone width are saved under test-output/screenshots/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml

from tests.conftest import REAL_CONTENT

USERNAME = "grace"
PASSWORD = "a-long-passphrase-1"
REVIEW_CHAPTER = "getting-started"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 360, "height": 740}
TIMEOUT_MS = 10_000


def answer_key() -> dict[str, dict]:
    """Every question of the real course by id (the test knows the answers)."""
    questions = {}
    for path in sorted((REAL_CONTENT / "chapters").glob("*/questions.yaml")):
        for q in yaml.safe_load(path.read_text()):
            questions[q["id"]] = q
    return questions


def chapter_types(chapter_id: str) -> set[str]:
    """The question types a chapter of the real course has."""
    for path in (REAL_CONTENT / "chapters").glob("*/chapter.yaml"):
        if yaml.safe_load(path.read_text())["id"] == chapter_id:
            questions = yaml.safe_load((path.parent / "questions.yaml").read_text())
            return {q["type"] for q in questions}
    raise AssertionError(f"no chapter {chapter_id}")


def nav(page, name: str) -> None:
    page.locator("#nav").get_by_role("link", name=name, exact=True).click()


def shot(page, directory: Path, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-picture
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} scrolls sideways: {width}px in a {viewport}px window"


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
  .filter((el) => {
    if (el.tagName === 'BUTTON') return !(el.textContent.trim() || el.getAttribute('aria-label'));
    const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    return !(el.labels?.length || named);
  })
  .map((el) => el.outerHTML.slice(0, 120))"""


def all_labelled(page) -> None:
    """Every visible control has a label (or, for a button, a name)."""
    assert page.evaluate(UNLABELLED) == [], page.url


def next_card(page, qid: str) -> None:
    page.wait_for_function(
        "id => document.querySelector('.qcard')?.dataset.questionId !== id", arg=qid
    )


class Watch:
    """Collects script errors, failed responses and any request that leaves the app."""

    def __init__(self, base: str):
        self.base = base
        self.errors: list[str] = []
        self.failures: set[tuple[int, str]] = set()
        self.offsite: list[str] = []

    def attach(self, page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("request", self._request)

    def _console(self, msg) -> None:
        # The browser logs every 4xx fetch as "Failed to load resource"; those are checked
        # through the responses instead.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(msg.text)

    def _response(self, response) -> None:
        if response.status >= 400:
            self.failures.add((response.status, response.url.removeprefix(self.base)))

    def _request(self, request) -> None:
        if not request.url.startswith(self.base):
            self.offsite.append(request.url)


def sign_up(page, base: str) -> None:
    page.goto(base + "/")
    page.wait_for_url("**/#/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Display name (optional)").fill("Grace")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Hello, Grace").wait_for()
    assert page.locator("#tile-reviews .tile-value").inner_text() == "0"
    assert page.locator("#tile-due .tile-value").inner_text() == "0"


def read_a_section(page, screenshots: Path) -> None:
    nav(page, "Course")
    page.get_by_label("Search the course").fill("readiness probe")
    page.get_by_role("button", name="Search").click()
    first_hit = page.locator(".results li").first
    first_hit.locator("mark").first.wait_for()  # the snippet highlights the match
    first_hit.get_by_role("link").click()
    page.locator("article.prose pre code .hl-nt").first.wait_for()  # highlighted YAML
    assert "probe" in page.locator("h1").inner_text().lower()
    shot(page, screenshots, "desktop-section")


def answer(page, qtype: str, q: dict) -> None:
    """Answer the question on screen through the input its type uses."""
    if qtype == "kubectl":
        # A wrong name first: the result names the difference and only Again stays open.
        command = q["answer"][0]
        last = command.split()[-1]
        page.get_by_label("Your kubectl command").fill(command.replace(last, last + "-typo"))
        page.keyboard.press("Enter")
        page.locator(".verdict.bad").wait_for()
        assert page.locator(".feedback li").count() >= 1
        assert page.locator(".expected pre").inner_text().strip() == command
        assert page.locator(".rating.again").get_attribute("aria-pressed") == "true"
        assert page.locator(".rating.good").is_disabled()
    elif qtype == "single_choice":
        page.keyboard.press(str(q["answer"] + 1))  # the number-key shortcut
        page.locator(".verdict.ok").wait_for()
        assert page.locator(".rating.good").get_attribute("aria-pressed") == "true"
        # Lower the rating: undo + answer again with Hard; now Hard is the pressed one.
        page.locator(".rating.hard").click()
        page.wait_for_selector(".rating.hard[aria-pressed=true]")
        page.get_by_text("Rated hard").wait_for()
    elif qtype == "multi_choice":
        for index in q["answer"]:
            page.keyboard.press(str(index + 1))
        page.get_by_role("button", name="Check answer").click()
        page.locator(".verdict.ok").wait_for()
        assert page.locator(".choice.right").count() == len(q["answer"])
    elif qtype == "true_false":
        page.keyboard.press("t" if q["answer"] else "f")
        page.locator(".verdict.ok").wait_for()
    elif qtype == "short_answer":
        # Wrong, undo, then right: the undo puts the card back as it was.
        page.get_by_label("Your answer").fill("no idea")
        page.keyboard.press("Enter")
        page.locator(".verdict.bad").wait_for()
        page.get_by_role("button", name="Undo", exact=True).click()
        page.get_by_text("Undone").wait_for()
        page.get_by_label("Your answer").fill(str(q["answer"][0]))
        page.keyboard.press("Enter")
        page.locator(".verdict.ok").wait_for()
    elif qtype == "manifest":
        editor = page.get_by_label("Your manifest (YAML)")
        editor.click()
        page.keyboard.type("apiVersion: v1\nkind: ConfigMap\nmetadata:\nname: typed")
        assert "metadata:\n  name: typed" in editor.input_value()  # auto-indent
        page.keyboard.press("Control+Enter")
        page.locator(".verdict").wait_for()
    elif qtype == "flashcard":
        page.keyboard.press("Space")
        page.locator(".expected").wait_for()
        page.keyboard.press("3")  # Good; the session moves on by itself
        page.get_by_text("Flashcard rated good").wait_for()
    else:
        raise AssertionError(f"the test does not know how to answer {qtype}")


def review_each_type(page, key: dict, screenshots: Path) -> int:
    """Answer one question of each type of the review chapter; return the reviews made."""
    page.goto(f"{page.url.split('#')[0]}#/chapter/{REVIEW_CHAPTER}")
    page.get_by_role("link", name="Review this chapter").click()
    wanted = chapter_types(REVIEW_CHAPTER)
    answered: set[str] = set()
    for _ in range(80):
        if wanted <= answered:
            break
        card = page.locator(".qcard")
        card.wait_for()
        qtype = card.get_attribute("data-type")
        qid = card.get_attribute("data-question-id")
        if qtype in answered:
            page.get_by_role("button", name="Skip").click()
            next_card(page, qid)
            continue
        all_labelled(page)
        answer(page, qtype, key[qid])
        answered.add(qtype)
        if len(answered) == 3:
            shot(page, screenshots, "desktop-review-result")
        if qtype != "flashcard":
            page.get_by_role("button", name="Next").click()
    assert wanted <= answered, f"not answered: {wanted - answered}"
    return len(answered)


def practise_once(page) -> None:
    """Practice mode grades and explains, and says nothing was recorded."""
    page.get_by_label("Practice").check()
    page.get_by_role("heading", name="Practice").wait_for()
    card = page.locator(".qcard")
    card.wait_for()
    while card.get_attribute("data-type") not in ("single_choice", "true_false"):
        qid = card.get_attribute("data-question-id")
        page.get_by_role("button", name="Skip").click()
        next_card(page, qid)
    page.keyboard.press("1")
    page.locator(".verdict").wait_for()
    page.get_by_text("Practice: nothing was recorded").wait_for()


def check_dashboard(page, recorded: int, screenshots: Path) -> None:
    nav(page, "Dashboard")
    page.locator("#chart-reviews svg").wait_for()
    assert page.locator("#tile-reviews .tile-value").inner_text() == str(recorded)
    assert page.locator("#tile-streak .tile-value").inner_text() == "1 day"
    assert page.locator("#chart-forecast rect.bar").count() >= 1
    assert page.locator("#chart-reviews rect.bar").count() == 1
    assert page.locator("#chart-mastery svg rect.bar").count() >= 1
    assert page.locator("#chart-mastery svg").first.get_attribute("role") == "img"
    all_labelled(page)
    shot(page, screenshots, "desktop-dashboard")
    # The README's picture: the top of the dashboard (docs/screenshots/dashboard.png).
    page.screenshot(
        path=str(screenshots / "desktop-dashboard-readme.png"),
        clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": 1240},
        full_page=True,
    )


def verify_lab(page, screenshots: Path) -> None:
    nav(page, "Labs")
    page.get_by_role("link", name=re.compile("Readiness and liveness probes")).click()
    page.get_by_text("The reference solution opens after your first attempt").wait_for()
    page.get_by_role("button", name=re.compile(r"Show a hint \(1 of")).click()
    assert page.locator(".hints li").count() == 1
    editor = page.get_by_label("Your manifests (YAML)")
    editor.click()
    page.keyboard.press("Tab")  # the editor indents instead of moving the focus
    assert editor.input_value().endswith("  ")
    solution = (REAL_CONTENT / "labs" / "probes" / "solution.yaml").read_text()
    editor.fill(solution.replace("replicas: 6", "replicas: 5"))
    page.get_by_role("button", name="Verify manifests").click()
    result = page.locator(".lab-result")
    result.locator(".check").first.wait_for()
    failed = result.locator(".check.failed")
    assert failed.count() == 1
    assert "expected 6" in failed.locator(".check-message").inner_text()  # found vs expected
    assert failed.locator(".check-hint").count() == 1
    assert result.locator(".check.passed").count() >= 10
    assert result.locator(".check.skipped").count() >= 1  # live checks, on pasted manifests
    page.locator(".attempts > li").first.wait_for()
    assert page.locator(".attempts > li").count() == 1
    page.get_by_role("button", name="Show the solution").click()
    assert "kind: Deployment" in page.locator("pre.solution").inner_text()
    all_labelled(page)
    shot(page, screenshots, "desktop-lab")


def ask_tutor(page, key: dict, screenshots: Path) -> None:
    nav(page, "Tutor")
    page.locator(".msg.tutor").first.wait_for()
    page.get_by_label("Message to the tutor").fill("liveness vs readiness?")
    page.keyboard.press("Enter")
    reply = page.locator(".msg.tutor").nth(1)
    reply.locator(".citations a").first.wait_for()
    question = page.locator(".msg.live .chat-question")
    question.wait_for()
    q = key[question.get_attribute("data-question-id")]
    if q["type"] == "true_false":
        question.get_by_role("button", name="True" if q["answer"] else "False").click()
    elif q["type"] == "single_choice":
        question.locator(".choice").nth(q["answer"]).click()
    else:
        for index in q["answer"]:
            question.locator(".choice").nth(index).click()
        question.get_by_role("button", name="Send answer").click()
    page.locator(".msg.tutor").nth(2).get_by_text("Right").wait_for()
    all_labelled(page)
    shot(page, screenshots, "desktop-tutor")
    cited = reply.locator(".citations a").first
    title = cited.inner_text()
    cited.click()  # a citation opens the section it cites
    page.get_by_role("heading", name=title, exact=True).wait_for()


def change_settings(page) -> None:
    nav(page, "Settings")
    page.get_by_label("New cards per day").fill("15")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    all_labelled(page)
    link = page.get_by_role("button", name="Get a link code")
    if link.count():  # only when the server offers Slack
        link.click()
        page.locator("#slack-code").wait_for()


def use_a_phone(browser, base: str, watch: Watch, screenshots: Path) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch.attach(page)
    page.goto(base + "/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#chart-reviews svg").wait_for()
    no_horizontal_scroll(page)
    shot(page, screenshots, "phone-dashboard")
    page.get_by_role("button", name="Menu").click()
    nav(page, "Review")
    page.locator(".qcard").wait_for()
    no_horizontal_scroll(page)
    shot(page, screenshots, "phone-review")
    if page.locator(".qcard .choice").count():
        page.locator(".qcard .choice").first.click()
    else:
        page.locator(".qcard input, .qcard textarea").first.fill("kubectl get pods")
        page.get_by_role("button", name="Check answer").click()
    page.locator(".verdict").wait_for()
    no_horizontal_scroll(page)
    shot(page, screenshots, "phone-review-result")
    for route, ready, name in (
        ("read/build-health-probes", "article.prose", "phone-section"),
        ("lab/probes", ".attempts > li", "phone-lab"),
        ("tutor", ".msg.tutor", "phone-tutor"),
    ):
        page.goto(f"{base}/#/{route}")
        page.locator(ready).first.wait_for()
        no_horizontal_scroll(page)
        shot(page, screenshots, name)
    context.close()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert "the username or password is wrong" in page.locator(".problem").inner_text()


def test_learner_journey(live_server, browser, screenshots):
    started = time.monotonic()
    key = answer_key()
    watch = Watch(live_server)
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch.attach(page)

    sign_up(page, live_server)
    read_a_section(page, screenshots)
    recorded = review_each_type(page, key, screenshots)
    practise_once(page)
    check_dashboard(page, recorded, screenshots)
    verify_lab(page, screenshots)
    ask_tutor(page, key, screenshots)
    change_settings(page)

    # An API error is shown as the problem's detail, not as a blank page.
    page.goto(f"{live_server}/#/read/no-such-section")
    assert "no-such-section" in page.locator(".problem").inner_text()

    use_a_phone(browser, live_server, watch, screenshots)
    sign_out(page)
    context.close()

    assert not watch.errors, watch.errors
    assert not watch.offsite, f"requests left the app: {watch.offsite}"
    # The only failed requests are the two the journey provokes.
    assert watch.failures == {
        (404, "/api/v1/sections/no-such-section"),
        (401, "/api/v1/auth/token"),
    }, watch.failures
    assert time.monotonic() - started < 90
