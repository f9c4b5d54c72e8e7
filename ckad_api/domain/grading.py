"""Grade an answer to a review question, one grader per question type, and turn a grade into an FSRS
rating.

`grade(question, answer)` is the single entry point. A wrong answer is a normal result (a `Grade`
with `correct=False` and feedback); an answer of the wrong shape for its question (text for a
multiple choice, an index out of range) raises `ValidationFailed` with `errors={"answer": [...]}`.
Pure functions: no clock, no database, no network.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from . import kubectl
from .errors import ValidationFailed
from .model import Question

# FSRS ratings (the values of `fsrs.Rating`).
AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
RATING_VALUES = {"again": AGAIN, "hard": HARD, "good": GOOD, "easy": EASY}

# A right answer that took more than this many times the question's expected time is rated Hard.
SLOW_FACTOR = 2.0

# Typo tolerance for short answers (see `_fuzzy_match`): only accepted answers made of letters,
# spaces and hyphens, at least FUZZY_MIN_LENGTH letters long once normalised; at most one edit
# (a transposition counts as one) below FUZZY_TWO_EDITS_LENGTH letters and two from there on;
# a rapidfuzz ratio of at least FUZZY_MIN_RATIO; the same first letter; an answer that is the
# accepted one plus or minus a suffix only when that suffix is a plural "s" or "es"; and never
# an answer that is itself another known term (DISTINCT_TERMS).
FUZZY_MIN_LENGTH = 8
FUZZY_TWO_EDITS_LENGTH = 16
FUZZY_MIN_RATIO = 85.0

# Terms that are one typo apart from another real term (`containers`/`containerd`): an answer
# that is itself one of these is never read as a typo of a different accepted answer.
DISTINCT_TERMS = """
Pod Deployment ReplicaSet StatefulSet DaemonSet Job CronJob Service ClusterIP NodePort LoadBalancer
ExternalName ExternalIP Ingress IngressClass Gateway GatewayClass HTTPRoute NetworkPolicy ConfigMap
Secret ServiceAccount Role ClusterRole RoleBinding ClusterRoleBinding Namespace Namespaced Node
ResourceQuota LimitRange PersistentVolume PersistentVolumeClaim StorageClass EndpointSlice Endpoints
Endpoint HorizontalPodAutoscaler VerticalPodAutoscaler PodDisruptionBudget PriorityClass
RuntimeClass CustomResourceDefinition container containers containerd initContainers
ephemeralContainers emptyDir hostPath hostPort hostNetwork hostPID hostIPC nodePort targetPort
containerPort port ports livenessProbe readinessProbe startupProbe maxSurge maxUnavailable
minAvailable RollingUpdate Recreate OnDelete BestEffort Burstable Guaranteed Always IfNotPresent
Never OnFailure Running Pending Succeeded Failed Completed Complete Terminating Terminated
CrashLoopBackOff ImagePullBackOff ErrImagePull ErrImageNeverPull OOMKilled Evicted nodeAffinity
podAffinity podAntiAffinity nodeSelector nodeName toleration tolerations taint taints runAsUser
runAsGroup runAsNonRoot fsGroup privileged restricted baseline enforce audit warn ReadWriteOnce
ReadWriteMany ReadOnlyMany ReadWriteOncePod Retain Delete Recycle kubelet kubectl kubeadm
kube-proxy kube-apiserver kube-scheduler kube-controller-manager etcd CoreDNS Kustomize
Kustomization namePrefix nameSuffix labels label annotations annotation selector selectors
matchLabels matchExpressions requests request limits limit
"""
_DISTINCT_KEYS = frozenset(re.sub(r"[^\w]|_", "", t).casefold() for t in DISTINCT_TERMS.split())

MAX_SHORT_ANSWER_LENGTH = 500
MAX_MANIFEST_LENGTH = 200_000

ManifestGrader = Callable[[Question, str], Any]


@dataclasses.dataclass(frozen=True)
class Grade:
    """The outcome of grading one answer.

    `correct` is None for a flashcard (the learner rates themselves). `expected` is what to show
    as the right answer: the choice text (a list of texts for multi choice), the boolean for
    true/false, the first accepted answer or command, the back of a flashcard. `feedback` says
    what was wrong (or how a typo was read); `details` carries type-specific facts for clients.
    """

    correct: bool | None
    expected: Any
    feedback: list[str] = dataclasses.field(default_factory=list)
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


def _bad(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"answer": [message]})


def grade(
    question: Question, answer: Any, *, manifest_grader: ManifestGrader | None = None
) -> Grade:
    """Grade `answer` to `question` with the grader of the question's type.

    `manifest_grader(question, answer_text)` is needed for manifest questions only; it is the
    rubric engine, injected so this module stays pure. Raises `ValidationFailed` when the answer
    does not have the shape its question type needs.
    """
    if question.type == "manifest":
        return _grade_manifest(question, answer, manifest_grader)
    grader = _GRADERS.get(question.type)
    if grader is None:
        raise ValueError(f"no grader for question type {question.type!r}")
    return grader(question, answer)


# --------------------------------------------------------------------------------------------
# Choice questions
# --------------------------------------------------------------------------------------------


def _choice_index(question: Question, value: Any) -> int:
    """An int index in range, or the exact text of a choice (case-insensitive)."""
    choices = question.choices or ()
    if isinstance(value, bool):
        raise _bad("the answer must be the index of a choice, not true or false")
    if isinstance(value, int):
        if 0 <= value < len(choices):
            return value
        raise _bad(f"choice {value} does not exist; pick 0 to {len(choices) - 1}")
    if isinstance(value, str):
        wanted = value.strip().casefold()
        for index, choice in enumerate(choices):
            if choice.strip().casefold() == wanted:
                return index
        raise _bad("the answer must be the index of a choice or the exact text of one")
    raise _bad("the answer must be the index of a choice")


def _grade_single(question: Question, answer: Any) -> Grade:
    choices = question.choices or ()
    picked = _choice_index(question, answer)
    right = int(question.answer)
    correct = picked == right
    feedback = [] if correct else [f"{choices[picked]!r} is not the right choice"]
    return Grade(correct, choices[right], feedback, {"picked": picked, "answer": right})


def _grade_multi(question: Question, answer: Any) -> Grade:
    choices = question.choices or ()
    if isinstance(answer, str | bytes | Mapping) or not isinstance(answer, Sequence):
        raise _bad("the answer must be a list of choice indexes")
    picked = sorted({_choice_index(question, item) for item in answer})
    right = sorted(int(i) for i in question.answer)
    wrong = [i for i in picked if i not in right]
    missed = [i for i in right if i not in picked]
    feedback = [f"{choices[i]!r} is not correct" for i in wrong]
    feedback += [f"you missed {choices[i]!r}" for i in missed]
    return Grade(
        not wrong and not missed,
        [choices[i] for i in right],
        feedback,
        {"picked": picked, "answer": right, "wrong": wrong, "missed": missed},
    )


_TRUE_WORDS = {"true": True, "yes": True, "false": False, "no": False}


def _grade_true_false(question: Question, answer: Any) -> Grade:
    if isinstance(answer, bool):
        value = answer
    elif isinstance(answer, str) and answer.strip().casefold() in _TRUE_WORDS:
        value = _TRUE_WORDS[answer.strip().casefold()]
    else:
        raise _bad("the answer must be true or false")
    right = bool(question.answer)
    feedback = [] if value == right else [f"the statement is {'true' if right else 'false'}"]
    return Grade(value == right, right, feedback, {"picked": value})


# --------------------------------------------------------------------------------------------
# Short answers
# --------------------------------------------------------------------------------------------

_ARTICLES = ("the ", "a ", "an ")
_FUZZY_ELIGIBLE = re.compile(r"[^\W\d_][^\W\d_ \-]*(?:[ \-][^\W\d_]+)*")


_PUNCTUATION = re.compile(r"[^\w.]|_")
_LONE_DOTS = re.compile(r"(?<!\d)\.|\.(?!\d)")
_NEGATIVE = re.compile(r"-\d")
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)
def answer_key(text: str) -> str:
    """A short answer reduced for comparison: case, spacing, punctuation and hyphens dropped.

    `Config Map`, `config-map` and `ConfigMap` are all `configmap`; a decimal point between digits
    and a leading minus sign are kept; an answer made only of punctuation (`""`) keeps it.
    """
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = text.replace("\u2018", "'").replace("\u2019", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    for article in _ARTICLES:
        if text.startswith(article):
            text = text[len(article) :]
            break
    key = _LONE_DOTS.sub("", _PUNCTUATION.sub("", text))
    if _NEGATIVE.match(text):
        key = "-" + key
    if not key:
        key = _SPACES.sub("", text).replace("'", '"')
    return key


def _fuzzy_match(accepted: str, accepted_key: str, given_key: str) -> bool:
    """True when `given_key` is a plausible typo of the accepted answer (see FUZZY_ constants)."""
    if not _FUZZY_ELIGIBLE.fullmatch(accepted.strip()):
        return False
    if len(accepted_key) < FUZZY_MIN_LENGTH or not given_key or not given_key.isalpha():
        return False
    if given_key[0] != accepted_key[0]:
        return False
    if given_key in _DISTINCT_KEYS and given_key not in (accepted_key + "s", accepted_key + "es"):
        return False  # a real, different term: `containerd` is not a typo of `containers`
    shorter, longer = sorted((accepted_key, given_key), key=len)
    if longer.startswith(shorter) and longer[len(shorter) :] not in ("s", "es"):
        return False  # `Ingress` is not `IngressClass`, `container` is not `containerd`
    if fuzz.ratio(accepted_key, given_key) < FUZZY_MIN_RATIO:
        return False
    max_edits = 1 if min(len(accepted_key), len(given_key)) < FUZZY_TWO_EDITS_LENGTH else 2
    return OSA.distance(accepted_key, given_key) <= max_edits


def _grade_short(question: Question, answer: Any) -> Grade:
    if not isinstance(answer, str):
        raise _bad("the answer must be text")
    if len(answer) > MAX_SHORT_ANSWER_LENGTH:
        raise _bad(f"the answer is too long (more than {MAX_SHORT_ANSWER_LENGTH} characters)")
    accepted = [str(a) for a in question.answer]
    expected = accepted[0]
    if not answer.strip():
        return Grade(False, expected, ["no answer was given"], {"matched": None, "fuzzy": False})
    given_key = answer_key(answer)
    keys = [(a, answer_key(a)) for a in accepted]
    for text, key in keys:
        if key == given_key:
            return Grade(True, expected, [], {"matched": text, "fuzzy": False})
    for text, key in keys:
        if _fuzzy_match(text, key, given_key):
            feedback = [f"accepted as {text!r}; check the spelling"]
            return Grade(True, expected, feedback, {"matched": text, "fuzzy": True})
    return Grade(False, expected, [], {"matched": None, "fuzzy": False})


# --------------------------------------------------------------------------------------------
# kubectl commands, flashcards, manifests
# --------------------------------------------------------------------------------------------


def _grade_kubectl(question: Question, answer: Any) -> Grade:
    if not isinstance(answer, str):
        raise _bad("the answer must be a command line")
    if len(answer) > kubectl.MAX_COMMAND_LENGTH:
        raise _bad(f"the command is too long (more than {kubectl.MAX_COMMAND_LENGTH} characters)")
    accepted = [str(a) for a in question.answer]
    verdict = kubectl.compare(answer, accepted)
    return Grade(
        verdict.correct,
        accepted[0],
        list(verdict.feedback),
        {"matched": verdict.matched, "closest": verdict.closest},
    )


def _grade_flashcard(question: Question, answer: Any) -> Grade:
    return Grade(None, question.answer, [], {})


def _field(result: Any, *names: str) -> Any:
    for name in names:
        if isinstance(result, Mapping):
            if name in result:
                return result[name]
        elif hasattr(result, name):
            return getattr(result, name)
    return None


def _check_titles(question: Question) -> list[str] | None:
    checks = question.answer
    if isinstance(checks, Mapping):
        checks = checks.get("checks")
    if not isinstance(checks, Sequence) or isinstance(checks, str):
        return None
    titles = [str(_field(c, "title")) for c in checks if _field(c, "title")]
    return titles or None


def _grade_manifest(question: Question, answer: Any, grader: ManifestGrader | None) -> Grade:
    if grader is None:
        raise RuntimeError(
            "manifest questions need a rubric engine: call grade(..., manifest_grader=...)"
        )
    if not isinstance(answer, str) or not answer.strip():
        raise _bad("the answer must be the manifest text (YAML)")
    if len(answer) > MAX_MANIFEST_LENGTH:
        raise _bad(f"the manifest is too long (more than {MAX_MANIFEST_LENGTH} characters)")
    result = grader(question, answer)
    if isinstance(result, Grade):
        return result
    passed = result if isinstance(result, bool) else _field(result, "passed", "correct")
    if not isinstance(passed, bool):
        raise TypeError("manifest_grader must return a Grade, a bool, or a result with `passed`")
    checks = [] if isinstance(result, bool) else list(_field(result, "checks") or ())
    feedback = []
    plain_checks = []
    for check in checks:
        status = _field(check, "status")
        if status is None:
            status = "passed" if _field(check, "passed") else "failed"
        title, message = _field(check, "title"), _field(check, "message")
        plain_checks.append(
            {
                "id": _field(check, "id"),
                "title": title,
                "status": status,
                "message": message,
                "hint": _field(check, "hint"),
            }
        )
        if status == "failed":
            feedback.append(f"{title}: {message}" if title and message else str(message or title))
    details: dict[str, Any] = {"checks": plain_checks}
    if not isinstance(result, bool):
        details["score"] = _field(result, "score")
    return Grade(passed, _check_titles(question), feedback, details)


_GRADERS: dict[str, Callable[[Question, Any], Grade]] = {
    "single_choice": _grade_single,
    "multi_choice": _grade_multi,
    "true_false": _grade_true_false,
    "short_answer": _grade_short,
    "kubectl": _grade_kubectl,
    "flashcard": _grade_flashcard,
}


# --------------------------------------------------------------------------------------------
# Rating
# --------------------------------------------------------------------------------------------


def _rating_value(requested: str | int | None) -> int | None:
    if requested is None:
        return None
    if isinstance(requested, bool):
        raise ValidationFailed(
            "unknown rating", errors={"rating": ["must be again, hard, good or easy"]}
        )
    if isinstance(requested, int) and requested in RATING_VALUES.values():
        return requested
    if isinstance(requested, str) and requested.strip().lower() in RATING_VALUES:
        return RATING_VALUES[requested.strip().lower()]
    raise ValidationFailed(
        f"unknown rating {requested!r}", errors={"rating": ["must be again, hard, good or easy"]}
    )


def rating_for(
    grade: Grade,
    elapsed_ms: int | None,
    expected_seconds: int | None,
    requested: str | int | None,
) -> int:
    """The FSRS rating (1 Again, 2 Hard, 3 Good, 4 Easy) a graded answer earns.

    Policy:
    - flashcard (`correct is None`): the learner's requested rating, which is required;
    - wrong answer: Again, whatever was requested (nothing can raise it);
    - right answer: Good, or Hard when it took more than SLOW_FACTOR times `expected_seconds`
      (an unknown time or expected time is never slow). The learner may lower it (Hard or Again,
      say after a guess) and may ask for Easy, since FSRS uses Easy for answers that came without
      effort; asking for Good after a slow answer keeps Hard.

    `requested` is a name (`again`, `hard`, `good`, `easy`, any case) or the rating's number.
    Raises `ValidationFailed` (errors keyed `rating` or `elapsed_ms`) for an unknown rating, a
    missing flashcard rating, or a negative time.
    """
    wanted = _rating_value(requested)
    if grade.correct is None:
        if wanted is None:
            raise ValidationFailed(
                "a flashcard is rated by the learner",
                errors={"rating": ["is required for a flashcard"]},
            )
        return wanted
    if elapsed_ms is not None and elapsed_ms < 0:
        raise ValidationFailed(
            "elapsed time cannot be negative", errors={"elapsed_ms": ["must be 0 or more"]}
        )
    if not grade.correct:
        return AGAIN
    slow = (
        elapsed_ms is not None
        and expected_seconds is not None
        and expected_seconds > 0
        and elapsed_ms > SLOW_FACTOR * expected_seconds * 1000
    )
    policy = HARD if slow else GOOD
    if wanted is None:
        return policy
    if wanted == EASY:
        return EASY
    return min(wanted, policy)


__all__ = [
    "AGAIN",
    "EASY",
    "FUZZY_MIN_LENGTH",
    "FUZZY_MIN_RATIO",
    "FUZZY_TWO_EDITS_LENGTH",
    "GOOD",
    "HARD",
    "SLOW_FACTOR",
    "Grade",
    "ManifestGrader",
    "answer_key",
    "grade",
    "rating_for",
]
