"""Grading per question type, the rating policy, bad answer shapes, and the real course content."""

from __future__ import annotations

import itertools
import shlex
from pathlib import Path

import pytest
import yaml

from ckad_api.domain.errors import ValidationFailed
from ckad_api.domain.grading import (
    AGAIN,
    EASY,
    GOOD,
    HARD,
    SLOW_FACTOR,
    Grade,
    answer_key,
    grade,
    rating_for,
)
from ckad_api.domain.model import Question

CONTENT = Path(__file__).resolve().parents[2] / "content" / "chapters"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is six times faster


def question(qtype: str, answer, choices=None, **extra) -> Question:
    return Question(
        id=extra.pop("id", "q-1"),
        chapter_id="c",
        section_id="s",
        position=1,
        type=qtype,
        prompt="?",
        answer=answer,
        explanation="Because.",
        competencies=("d/c",),
        difficulty=1,
        choices=tuple(choices) if choices else None,
        **extra,
    )


def content_questions() -> list[Question]:
    questions = []
    for path in sorted(CONTENT.glob("*/questions.yaml")):
        raw_questions = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
        for position, raw in enumerate(raw_questions):
            questions.append(
                Question(
                    id=raw["id"],
                    chapter_id=path.parent.name,
                    section_id=raw["section"],
                    position=position,
                    type=raw["type"],
                    prompt=raw["prompt"],
                    answer=raw["answer"],
                    explanation=raw["explanation"],
                    competencies=tuple(raw["competencies"]),
                    difficulty=raw["difficulty"],
                    choices=tuple(raw["choices"]) if raw.get("choices") else None,
                    expected_seconds=raw.get("expected_seconds"),
                )
            )
    return questions


QUESTIONS = content_questions()
KUBECTL = [q for q in QUESTIONS if q.type == "kubectl"]
SHORT = [q for q in QUESTIONS if q.type == "short_answer"]


# --------------------------------------------------------------------------------------------
# Choice questions
# --------------------------------------------------------------------------------------------

SINGLE = question("single_choice", 1, ["Pod", "Deployment", "Service"])
MULTI = question("multi_choice", [0, 2], ["kubelet", "etcd", "kube-proxy", "scheduler"])


def test_single_choice_by_index_or_by_text():
    right = grade(SINGLE, 1)
    assert right.correct and right.expected == "Deployment" and right.feedback == []
    assert grade(SINGLE, " deployment ").correct
    wrong = grade(SINGLE, 2)
    assert wrong.correct is False and wrong.expected == "Deployment"
    assert "'Service' is not the right choice" in wrong.feedback
    assert wrong.details == {"picked": 2, "answer": 1}


def test_multi_choice_is_all_or_nothing_in_any_order():
    assert grade(MULTI, [2, 0]).correct
    assert grade(MULTI, (0, 2, 2)).correct
    partial = grade(MULTI, [0])
    assert partial.correct is False
    assert partial.feedback == ["you missed 'kube-proxy'"]
    assert partial.expected == ["kubelet", "kube-proxy"]
    wrong = grade(MULTI, [0, 1, 2])
    assert wrong.correct is False and wrong.feedback == ["'etcd' is not correct"]
    assert wrong.details["wrong"] == [1] and wrong.details["missed"] == []
    both = grade(MULTI, [1, 3])
    assert both.feedback == [
        "'etcd' is not correct",
        "'scheduler' is not correct",
        "you missed 'kubelet'",
        "you missed 'kube-proxy'",
    ]


def test_true_false_accepts_booleans_and_words():
    statement = question("true_false", False)
    for answer in (False, "false", "No", " no "):
        assert grade(statement, answer).correct, answer
    for answer in (True, "TRUE", "yes"):
        result = grade(statement, answer)
        assert result.correct is False and result.expected is False
        assert result.feedback == ["the statement is false"]


@pytest.mark.parametrize(
    ("q", "answer"),
    [
        (SINGLE, 3),
        (SINGLE, -1),
        (SINGLE, True),
        (SINGLE, "Ingress"),
        (SINGLE, None),
        (SINGLE, 1.0),
        (MULTI, "0,2"),
        (MULTI, 2),
        (MULTI, [0, 7]),
        (MULTI, [0, "x"]),
        (MULTI, {"0": True}),
        (question("true_false", True), "maybe"),
        (question("true_false", True), 1),
        (question("true_false", True), None),
        (question("short_answer", ["pause"]), 42),
        (question("short_answer", ["pause"]), "x" * 501),
        (question("kubectl", ["kubectl get pods"]), ["kubectl", "get"]),
        (question("kubectl", ["kubectl get pods"]), "k get pods " * 300),
        (question("kubectl", ["kubectl get pods"]), None),
    ],
)
def test_bad_answer_shapes_raise_validation_failed(q, answer):
    with pytest.raises(ValidationFailed) as caught:
        grade(q, answer)
    assert list(caught.value.errors) == ["answer"] and caught.value.errors["answer"]


# --------------------------------------------------------------------------------------------
# Short answers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "given"),
    [
        ("ConfigMap", "configmap"),
        ("ConfigMap", "Config Map"),
        ("ConfigMap", "config-map"),
        ("ConfigMap", "  CONFIGMAP. "),
        ("Deployment", "Deploymnet"),
        ("StatefulSet", "Statefulset"),
        ("StatefulSet", "Stateful Set"),
        ("BestEffort", "best_effort"),
        ("ProgressDeadlineExceeded", "ProgresDeadlineExceeded"),
        ("Pod Security Admission", "pod security admision"),
        ("emptyDir", "emtpyDir"),
        ("pause container", "the pause container"),
        ("kubernetes.io/tls", "kubernetes.io/tls"),
        ('""', "''"),
        ("30000-32767", "30000 - 32767"),
    ],
)
def test_short_answer_tolerates_case_spacing_punctuation_and_typos(accepted, given):
    result = grade(question("short_answer", [accepted]), given)
    assert result.correct, (accepted, given)
    assert result.expected == accepted


def test_a_typo_is_accepted_with_a_note():
    result = grade(question("short_answer", ["Deployment"]), "Deploymnet")
    assert result.correct and result.details == {"matched": "Deployment", "fuzzy": True}
    assert result.feedback == ["accepted as 'Deployment'; check the spelling"]


@pytest.mark.parametrize(
    ("accepted", "given"),
    [
        ("NodePort", "Node"),
        ("Node", "NodePort"),
        ("ReplicaSet", "DaemonSet"),
        ("StatefulSet", "ReplicaSet"),
        ("ClusterIP", "ClusterRole"),
        ("ClusterRole", "Role"),
        ("Role", "ClusterRole"),
        ("emptyDir", "hostPath"),
        ("Ingress", "IngressClass"),
        ("IngressClass", "Ingress"),
        ("Secret", "ServiceAccount"),
        ("containerd", "container"),
        ("PersistentVolumeClaim", "PersistentVolume"),
        ("nodeAffinity", "podAffinity"),
        ("ClusterRoleBinding", "ClusterRole"),
        ("RoleBinding", "ClusterRoleBinding"),
        ("api.payments.svc.cluster.local", "api.payment.svc.cluster.local"),
        ("30000-32767", "30000-32766"),
        ("system:serviceaccount:ci:build-bot", "system:serviceaccount:ci:build-bob"),
        ("300", "30"),
        ("2", "-2"),
        ("""''""", ""),
    ],
)
def test_short_answer_never_accepts_a_different_term(accepted, given):
    assert not grade(question("short_answer", [accepted]), given).correct, (accepted, given)


VOCABULARY_TEXT = """
Pod Deployment ReplicaSet StatefulSet DaemonSet Job CronJob Service ClusterIP NodePort LoadBalancer
ExternalName Ingress IngressClass Gateway GatewayClass HTTPRoute NetworkPolicy ConfigMap Secret
ServiceAccount Role ClusterRole RoleBinding ClusterRoleBinding Namespace Node ResourceQuota
LimitRange PersistentVolume PersistentVolumeClaim StorageClass EndpointSlice Endpoints
HorizontalPodAutoscaler PodDisruptionBudget PriorityClass RuntimeClass CustomResourceDefinition
emptyDir hostPath configMap projected downwardAPI initContainers containers ephemeralContainers
livenessProbe readinessProbe startupProbe maxSurge maxUnavailable minReadySeconds
progressDeadlineSeconds activeDeadlineSeconds terminationGracePeriodSeconds backoffLimit
backoffLimitPerIndex completions completionMode parallelism suspend concurrencyPolicy
successfulJobsHistoryLimit failedJobsHistoryLimit startingDeadlineSeconds ttlSecondsAfterFinished
RollingUpdate Recreate OnDelete BestEffort Burstable Guaranteed Always IfNotPresent Never OnFailure
Running Pending Succeeded Failed Unknown CrashLoopBackOff ImagePullBackOff ErrImagePull
ErrImageNeverPull CreateContainerConfigError CreateContainerError OOMKilled Completed Evicted
Terminating Terminated ContainerCreating nodeAffinity podAffinity podAntiAffinity nodeSelector
tolerations taints runAsUser runAsGroup runAsNonRoot fsGroup readOnlyRootFilesystem
allowPrivilegeEscalation privileged capabilities seccompProfile hostNetwork hostPID hostIPC
hostPort containerPort targetPort nodePort ReadWriteOnce ReadWriteMany ReadOnlyMany
ReadWriteOncePod Retain Delete Recycle Immediate WaitForFirstConsumer restricted baseline
kube-apiserver kube-scheduler kube-controller-manager cloud-controller-manager kube-proxy kubelet
etcd CoreDNS containerd Kustomize Kustomization namePrefix nameSuffix commonLabels
commonAnnotations configMapGenerator secretGenerator newTag newName imagePullPolicy
imagePullSecrets storageClassName ingressClassName persistentVolumeReclaimPolicy matchLabels
matchExpressions namespaceSelector podSelector ipBlock enforce audit warn
"""
VOCABULARY = VOCABULARY_TEXT.split()


def test_no_two_distinct_kubernetes_terms_are_taken_for_each_other():
    for accepted in VOCABULARY:
        q = question("short_answer", [accepted])
        for given in VOCABULARY:
            if answer_key(given) != answer_key(accepted):  # `NodePort` is `nodePort`
                assert not grade(q, given).correct, (accepted, given)


def test_every_accepted_short_answer_of_the_content_is_graded_correct():
    assert len(SHORT) >= 30
    failures = []
    for q in SHORT:
        for accepted in q.answer:
            spellings = (accepted, accepted.upper(), f"  {accepted}  ", accepted.replace(" ", "  "))
            for given in spellings:
                result = grade(q, given)
                if not result.correct or result.expected != q.answer[0]:
                    failures.append((q.id, given))
    assert failures == []


def test_no_short_answer_question_accepts_another_questions_different_answer():
    for q, other in itertools.permutations(SHORT, 2):
        keys = {answer_key(a) for a in q.answer}
        for given in other.answer:
            if answer_key(given) not in keys:
                assert not grade(q, given).correct, (q.id, given)


def test_an_empty_short_answer_is_wrong_not_an_error():
    result = grade(question("short_answer", ["pause"]), "   ")
    assert result.correct is False and result.feedback == ["no answer was given"]


# --------------------------------------------------------------------------------------------
# kubectl questions
# --------------------------------------------------------------------------------------------


def test_kubectl_grade_carries_the_verdict():
    q = question("kubectl", ["kubectl get pods -n web", "kubectl get po -n web -o wide"])
    right = grade(q, "k get po -n web")
    assert right.correct and right.expected == "kubectl get pods -n web"
    assert right.details == {"matched": q.answer[0], "closest": q.answer[0]}
    wrong = grade(q, "k get po -n default")
    assert wrong.correct is False
    assert wrong.feedback == ['the namespace differs: expected "web", got "default"']
    unparseable = grade(q, "k get po -n 'web")
    assert unparseable.correct is False and "quotation mark" in unparseable.feedback[0]


# A learner's other spellings of an accepted command, built without the module under test.
SHORT_NAMES = {
    "deployment": "deploy",
    "deployments": "deploy",
    "service": "svc",
    "services": "svc",
    "namespace": "ns",
    "namespaces": "ns",
    "pod": "po",
    "pods": "po",
    "node": "no",
    "nodes": "no",
    "events": "ev",
    "networkpolicy": "netpol",
    "pv": "persistentvolume",
    "crd": "customresourcedefinitions",
    "limitrange": "limits",
    "quota": "resourcequota",
    "secret": "secrets",
    "secrets": "secret",
    "ingressclass": "ingressclasses",
    "endpointslices": "endpointslice",
    "horizontalpodautoscaler": "hpa",
    "backups": "backup",
}
CREATE_SHORT_NAMES = {
    "deployment": "deploy",
    "namespace": "ns",
    "serviceaccount": "sa",
    "configmap": "cm",
    "cronjob": "cj",
    "quota": "resourcequota",
}
VALUE_SHORTS = {"-n", "-o", "-l", "-c", "-L", "-k", "-f"}
SPACED_LONGS = {"--for", "--field-selector", "--output-version", "--set", "--namespace"}
NOT_SPLIT = {"--dry-run", "--namespaced", "--overwrite", "--all-containers"}
LONG_NAMES = {
    "-n": "--namespace",
    "-o": "--output",
    "-l": "--selector",
    "-c": "--container",
    "-L": "--label-columns",
    "-k": "--kustomize",
}


def _segments(command: str) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for token in shlex.split(command):
        if token == "|":
            segments.append([])
        else:
            segments[-1].append(token)
    return segments


def _join(segments: list[list[str]]) -> str:
    return " | ".join(shlex.join(s).replace("'>'", ">") for s in segments)


def _split(tokens: list[str]) -> tuple[list[str], list[list[str]], list[str], list[str]]:
    """(program and positionals, flag groups, the `--` tail, a redirect)."""
    words, flags, tail, redirect = [], [], [], []
    index = 0
    patch = len(tokens) > 1 and tokens[1] == "patch"
    while index < len(tokens):
        token = tokens[index]
        if token == "--":
            tail = tokens[index:]
            break
        if token == ">":
            redirect = tokens[index : index + 2]
            index += 2
            continue
        takes_value = token in VALUE_SHORTS or token in SPACED_LONGS or (patch and token == "-p")
        if token.startswith("-") and len(token) > 1:
            flags.append(tokens[index : index + 2] if takes_value else [token])
            index += 2 if takes_value else 1
            continue
        words.append(token)
        index += 1
    return words, flags, tail, redirect


def alias_and_short_names(command: str) -> str:
    segments = []
    for tokens in _segments(command):
        if tokens[0] != "kubectl":
            segments.append(tokens)
            continue
        words, flags, tail, redirect = _split(tokens)
        out = ["k"]
        for position, word in enumerate(words[1:], start=1):
            if position == 2 and words[1] == "create":
                out.append(CREATE_SHORT_NAMES.get(word, word))
            elif position == 2 and words[1] == "explain":
                head, dot, rest = word.partition(".")
                out.append(SHORT_NAMES.get(head, head) + dot + rest)
            elif "/" in word and word.split("/")[0] in SHORT_NAMES:
                head, _, name = word.partition("/")
                out.append(f"{SHORT_NAMES[head]}/{name}")
            elif (position >= 2 and words[1] not in ("auth", "create")) or position >= 3:
                out.append(SHORT_NAMES.get(word, word) if "=" not in word else word)
            else:
                out.append(word)
        segments.append(out + [t for group in flags for t in group] + tail + redirect)
    return _join(segments)


def reordered_flags(command: str) -> str:
    segments = []
    for tokens in _segments(command):
        words, flags, tail, redirect = _split(tokens)
        flags = list(reversed(flags))
        segments.append(words + [t for group in flags for t in group] + tail + redirect)
    return _join(segments)


def other_flag_spellings(command: str) -> str:
    segments = []
    for tokens in _segments(command):
        words, flags, tail, redirect = _split(tokens)
        logs = len(words) > 1 and words[1] == "logs"
        patch = len(words) > 1 and words[1] == "patch"
        out_flags: list[str] = []
        for group in flags:
            flag = group[0]
            if flag in LONG_NAMES and not (logs and flag == "-f"):
                out_flags.append(f"{LONG_NAMES[flag]}={group[1]}")
            elif flag == "-f":
                out_flags.append(f"--filename={group[1]}")
            elif patch and flag == "-p":
                out_flags.append(f"--patch={group[1]}")
            elif flag == "-it":
                out_flags += ["-t", "--stdin"]
            elif flag == "-A":
                out_flags.append("--all-namespaces")
            elif flag == "--all-namespaces":
                out_flags.append("-A")
            elif flag == "--previous" and logs:
                out_flags.append("-p")
            elif flag == "--namespace":
                out_flags += ["-n", group[1]]
            elif flag.startswith("--namespace="):
                out_flags += ["-n", flag.split("=", 1)[1]]
            elif flag.startswith("--") and "=" in flag and flag.split("=")[0] not in NOT_SPLIT:
                out_flags += flag.split("=", 1)
            elif flag in SPACED_LONGS:
                out_flags.append(f"{flag}={group[1]}")
            else:
                out_flags += group
        segments.append(words + out_flags + tail + redirect)
    return _join(segments)


def everything(command: str) -> str:
    return other_flag_spellings(alias_and_short_names(reordered_flags(command)))


VARIANTS = [alias_and_short_names, reordered_flags, other_flag_spellings, everything]


def test_every_kubectl_answer_of_the_content_is_graded_correct_in_its_other_spellings():
    assert len(KUBECTL) >= 100
    failures = []
    for q in KUBECTL:
        for accepted in q.answer:
            for spelled in [accepted] + [variant(accepted) for variant in VARIANTS]:
                result = grade(q, spelled)
                if not result.correct or result.expected != q.answer[0]:
                    failures.append((q.id, spelled, result.feedback))
    assert failures == []


def test_the_variants_really_respell_the_commands():
    sample = "kubectl get events -n shop --sort-by=.metadata.creationTimestamp"
    assert alias_and_short_names(sample) == "k get ev -n shop --sort-by=.metadata.creationTimestamp"
    assert (
        reordered_flags(sample)
        == "kubectl get events --sort-by=.metadata.creationTimestamp -n shop"
    )
    assert other_flag_spellings(sample) == (
        "kubectl get events --namespace=shop --sort-by .metadata.creationTimestamp"
    )
    changed = sum(everything(a) != a for q in KUBECTL for a in q.answer)
    assert changed == sum(len(q.answer) for q in KUBECTL)


def test_every_content_question_is_graded_correct_with_its_own_answer():
    for q in QUESTIONS:
        if q.type in ("kubectl", "short_answer"):
            answer = q.answer[0]
        elif q.type == "manifest":
            continue
        else:
            answer = q.answer
        result = grade(q, answer)
        assert result.correct is (None if q.type == "flashcard" else True), q.id


# --------------------------------------------------------------------------------------------
# Flashcards and manifests
# --------------------------------------------------------------------------------------------


def test_a_flashcard_is_not_graded_and_shows_its_back():
    result = grade(question("flashcard", "spec is desired, status observed"), None)
    assert result == Grade(None, "spec is desired, status observed", [], {})


MANIFEST = question(
    "manifest",
    {"checks": [{"id": "replicas", "title": "3 replicas"}, {"id": "image", "title": "nginx"}]},
)


def test_a_manifest_needs_an_injected_grader():
    with pytest.raises(RuntimeError, match="manifest_grader"):
        grade(MANIFEST, "kind: Deployment")


def test_the_manifest_grader_result_is_mapped():
    seen = []

    def rubric(q, text):
        seen.append((q.id, text))
        return {
            "passed": False,
            "score": 0.5,
            "checks": [
                {"id": "replicas", "title": "3 replicas", "status": "passed", "message": "ok"},
                {
                    "id": "image",
                    "title": "nginx",
                    "status": "failed",
                    "message": "image is httpd, expected nginx",
                    "hint": "set the image",
                },
            ],
        }

    result = grade(MANIFEST, "kind: Deployment", manifest_grader=rubric)
    assert seen == [("q-1", "kind: Deployment")]
    assert result.correct is False
    assert result.expected == ["3 replicas", "nginx"]
    assert result.feedback == ["nginx: image is httpd, expected nginx"]
    assert result.details["score"] == 0.5
    assert [c["status"] for c in result.details["checks"]] == ["passed", "failed"]
    assert grade(MANIFEST, "kind: Deployment", manifest_grader=lambda q, t: True).correct
    ready = Grade(True, None, [], {"score": 1.0})
    assert grade(MANIFEST, "x: 1", manifest_grader=lambda q, t: ready) is ready


@pytest.mark.parametrize("answer", [None, "", "   ", 3, "x" * 200_001])
def test_a_manifest_answer_must_be_text(answer):
    with pytest.raises(ValidationFailed):
        grade(MANIFEST, answer, manifest_grader=lambda q, t: True)


def test_an_unknown_question_type_is_a_programming_error():
    with pytest.raises(ValueError, match="no grader"):
        grade(question("essay", None), "text")


# --------------------------------------------------------------------------------------------
# Rating policy
# --------------------------------------------------------------------------------------------

RIGHT = Grade(True, "x")
WRONG = Grade(False, "x")
CARD = Grade(None, "back")


def test_the_slow_factor_is_two():
    assert SLOW_FACTOR == 2.0


@pytest.mark.parametrize(
    ("result", "elapsed_ms", "expected_seconds", "requested", "rating"),
    [
        (WRONG, 1_000, 30, None, AGAIN),
        (WRONG, 1_000, 30, "easy", AGAIN),
        (WRONG, 1_000, 30, "good", AGAIN),
        (WRONG, 1_000, 30, EASY, AGAIN),
        (RIGHT, 10_000, 30, None, GOOD),
        (RIGHT, 60_000, 30, None, GOOD),  # exactly twice the expected time is not slow
        (RIGHT, 60_001, 30, None, HARD),
        (RIGHT, None, 30, None, GOOD),
        (RIGHT, 999_999, None, None, GOOD),
        (RIGHT, 10_000, 30, "again", AGAIN),
        (RIGHT, 10_000, 30, "Hard", HARD),
        (RIGHT, 10_000, 30, "good", GOOD),
        (RIGHT, 10_000, 30, "easy", EASY),
        (RIGHT, 10_000, 30, EASY, EASY),
        (RIGHT, 10_000, 30, HARD, HARD),
        (RIGHT, 90_000, 30, "good", HARD),  # cannot raise a slow answer to Good
        (RIGHT, 90_000, 30, "again", AGAIN),
        (RIGHT, 90_000, 30, "easy", EASY),  # Easy is the learner's call on a right answer
        (CARD, 1_000, 20, "again", AGAIN),
        (CARD, 1_000, 20, "hard", HARD),
        (CARD, 99_000, 20, "good", GOOD),
        (CARD, 1_000, 20, "easy", EASY),
        (CARD, None, None, 4, EASY),
    ],
)
def test_rating_policy(result, elapsed_ms, expected_seconds, requested, rating):
    assert rating_for(result, elapsed_ms, expected_seconds, requested) == rating


def test_a_flashcard_needs_a_requested_rating():
    with pytest.raises(ValidationFailed) as caught:
        rating_for(CARD, 1_000, 20, None)
    assert "rating" in caught.value.errors


@pytest.mark.parametrize("requested", ["great", "", 0, 5, True])
def test_an_unknown_rating_is_refused(requested):
    with pytest.raises(ValidationFailed) as caught:
        rating_for(RIGHT, 1_000, 30, requested)
    assert "rating" in caught.value.errors


def test_a_negative_time_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        rating_for(RIGHT, -1, 30, None)
    assert "elapsed_ms" in caught.value.errors
