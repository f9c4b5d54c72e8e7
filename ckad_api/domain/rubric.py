"""The rubric engine: grade a snapshot of Kubernetes objects against a lab's checks.

A check is a CEL expression (https://cel.dev) over the object it targets. Lab authors write
checks in YAML (see docs/rubrics.md); `compile_checks` validates and compiles them when content
is checked, so a broken rubric fails then and never at a learner's request. `evaluate` runs the
compiled checks on a `Snapshot` (the learner's namespace, or submitted manifests) and returns
one result per check, a weighted score and whether the lab is passed.

Fair grading (LABS.md, "Accept every correct answer") is built in at two places:
- every object is seen with its Kubernetes defaults filled in (`with_defaults`), so a field left
  out whose default is the required value counts as set;
- helper functions, registered in the CEL environment, compare by meaning where CEL alone would
  compare spellings: quantities, ports by name or number, env vars from `valueFrom` or
  `envFrom`, classic or native sidecars, cron schedules, image references, selectors, RBAC
  permission sets. docs/rubrics.md has the table of every helper; each has a docstring here.

Bindings of a check's expressions: `obj` (the target object, when the target names one), `objs`
(every object of the target kind, when it names none), `objects` (every object of the snapshot).

Evaluation never raises for a learner's data: a missing field, a wrong type or a helper failing
makes that one check fail with a message that says so. CEL has no loops beyond macros over
finite lists, expressions are at most MAX_EXPRESSION_LENGTH characters, and input size is
bounded by the manifest parser (or by the learner's namespace quota on a cluster).

Library: `common-expression-language` (Rust, ~10x faster than cel-python; figures in
docs/rubrics.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import cel
from croniter import croniter
from kubernetes.utils.quantity import parse_quantity

from .content_rules import Problem, id_problems

MAX_EXPRESSION_LENGTH = 2000
"""Longest `expr` or `found` accepted, in characters."""
LIVE_SKIP_REASON = "needs a live cluster; submitted manifests only show the desired state"
SOURCES = ("cluster", "manifests")
STATUSES = ("passed", "failed", "skipped")
CHECK_FIELDS = ("id", "title", "weight", "target", "expr", "found", "message", "hint", "live")
_KIND_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{0,62}$")


# -- model --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    """What a check grades: one object (`kind` and `name`) or every object of a kind."""

    kind: str
    name: str | None = None

    def describe(self) -> str:
        """`Deployment web`, or `every Deployment`."""
        return f"{self.kind} {self.name}" if self.name else f"every {self.kind}"


@dataclasses.dataclass(frozen=True)
class Check:
    """One requirement of a lab, compiled. Build checks with `compile_checks`.

    `expr` must evaluate to a bool. `message` is shown on failure; `{found}` in it is replaced
    by the value of `found` (and `{kind}`, `{name}` by the target's), so it can say what was
    found versus what was expected. `live` checks need cluster state (status, endpoints,
    ReplicaSets) and are skipped on submitted manifests.
    """

    id: str
    title: str
    expr: str
    message: str
    hint: str
    target: Target | None = None
    weight: int = 1
    found: str | None = None
    live: bool = False
    program: Any = dataclasses.field(default=None, repr=False, compare=False)
    found_program: Any = dataclasses.field(default=None, repr=False, compare=False)
    uses: frozenset[str] = dataclasses.field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled here as well, so a Check built by hand is as usable as a compiled one.
        if self.program is None:
            object.__setattr__(self, "program", cel.compile(self.expr))
        if self.found is not None and self.found_program is None:
            object.__setattr__(self, "found_program", cel.compile(self.found))
        if not self.uses:
            names = set(self.program.variables())
            if self.found_program is not None:
                names.update(self.found_program.variables())
            object.__setattr__(self, "uses", frozenset(names & set(BINDINGS)))


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The objects a lab is graded on, as plain dicts in the shapes Kubernetes returns.

    `source` is "cluster" (read from the learner's namespace: the live extras such as
    ReplicaSets, Endpoints, EndpointSlices and Pods with their status are simply more objects)
    or "manifests" (submitted YAML: desired state only, whatever `status` it carries).
    Objects are looked up by (kind, name); when a name repeats within a kind the last one wins,
    as it would for `kubectl apply` of the same text.
    """

    objects: tuple[Mapping[str, Any], ...]
    source: str = "manifests"

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        object.__setattr__(self, "objects", tuple(self.objects))

    def get(self, kind: str, name: str) -> Mapping[str, Any] | None:
        """The object of `kind` named `name`, or None."""
        found = None
        for obj in self.objects:
            if obj.get("kind") == kind and _name(obj) == name:
                found = obj
        return found

    def of_kind(self, kind: str) -> list[Mapping[str, Any]]:
        """Every object of `kind`, one per name, in the order first seen."""
        by_name: dict[str, Mapping[str, Any]] = {}
        for obj in self.objects:
            if obj.get("kind") == kind:
                by_name[_name(obj)] = obj
        return list(by_name.values())


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check. `message` is empty when it passed, never when it did not."""

    id: str
    title: str
    status: str
    message: str
    hint: str
    weight: int = 1


@dataclasses.dataclass(frozen=True)
class RubricResult:
    """Every check's result, the weighted score (0..100) over the checks that applied, and
    whether every applicable check passed."""

    checks: tuple[CheckResult, ...]
    score: float
    passed: bool


# -- compiling ----------------------------------------------------------------------------------


def compile_checks(raw_checks: list[dict[str, Any]]) -> tuple[list[Check], list[Problem]]:
    """Validate and compile a lab's checks as an author wrote them (a list of mappings).

    Returns the checks that are valid and every problem as (field, message), the field named
    `checks.<id>.<field>` (or `checks[<index>]` when the id itself is unusable). Every
    expression is compiled here, and the names it uses are checked against the bindings the
    target provides and the helpers that exist, so a broken rubric is reported at content-check
    time. The loader must refuse a lab with any problem.
    """
    if not isinstance(raw_checks, list) or not raw_checks:
        return [], [("checks", "must be a non-empty list of checks")]
    checks: list[Check] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_checks):
        if not isinstance(raw, Mapping):
            problems.append((f"checks[{index}]", "must be a mapping with id, title, expr, ..."))
            continue
        raw_id = raw.get("id")
        usable_id = isinstance(raw_id, str) and not id_problems(raw_id) and raw_id not in seen
        where = f"checks.{raw_id}" if usable_id else f"checks[{index}]"
        mine = [(f"{where}.{field}", message) for field, message in _check_problems(raw)]
        if isinstance(raw_id, str) and raw_id in seen:
            mine.append((f"{where}.id", f"repeats the id {raw_id!r} of an earlier check"))
        if isinstance(raw_id, str):
            seen.add(raw_id)
        if mine:
            problems.extend(mine)
            continue
        checks.append(_build_check(raw))
    return checks, problems


def _check_problems(raw: Mapping[str, Any]) -> list[Problem]:
    problems = list(id_problems(raw.get("id")))
    unknown = sorted(str(k) for k in raw if k not in CHECK_FIELDS)
    if unknown:
        problems.append((unknown[0], f"is not a check field (fields: {', '.join(CHECK_FIELDS)})"))
    for field in ("title", "message", "hint"):
        if not _is_text(raw.get(field)):
            problems.append((field, "is required and must be non-empty text"))
    weight = raw.get("weight", 1)
    if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
        problems.append(("weight", f"must be an integer from 1 to 100, got {weight!r}"))
    live = raw.get("live", False)
    if not isinstance(live, bool):
        problems.append(("live", f"must be true or false, got {live!r}"))
    target, target_problems = _target(raw.get("target"))
    problems.extend(target_problems)
    allowed = {"objects"}
    if target is not None:
        allowed.add("obj" if target.name else "objs")
    for field in ("expr", "found"):
        source = raw.get(field)
        if source is None and field == "found":
            continue
        problems.extend((field, message) for message in _expression_problems(source, allowed))
    message = raw.get("message")
    if _is_text(message):
        if raw.get("found") is not None and "{found}" not in message:
            problems.append(("message", "must show the found value: put {found} in it"))
        if raw.get("found") is None and "{found}" in message:
            problems.append(("message", "uses {found}, but the check has no `found` expression"))
    return problems


def _target(raw: Any) -> tuple[Target | None, list[Problem]]:
    if raw is None:
        return None, []
    if not isinstance(raw, Mapping):
        return None, [("target", "must be a mapping with kind and optionally name")]
    problems: list[Problem] = []
    extra = sorted(str(k) for k in raw if k not in ("kind", "name"))
    if extra:
        problems.append((f"target.{extra[0]}", "is not a target field (fields: kind, name)"))
    kind, name = raw.get("kind"), raw.get("name")
    if not isinstance(kind, str) or not _KIND_PATTERN.match(kind):
        problems.append(
            ("target.kind", f"must be a Kubernetes kind such as Deployment, got {kind!r}")
        )
    if name is not None and not _is_text(name):
        problems.append(("target.name", f"must be non-empty text when given, got {name!r}"))
    if problems:
        return None, problems
    return Target(kind, name), []


def _expression_problems(source: Any, allowed: set[str]) -> list[str]:
    if not _is_text(source):
        return ["is required and must be a non-empty CEL expression"]
    if len(source) > MAX_EXPRESSION_LENGTH:
        return [f"is {len(source)} characters long; at most {MAX_EXPRESSION_LENGTH} are allowed"]
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError, TypeError) as exc:
        return [f"is not valid CEL: {_compile_error(exc)}"]
    problems = []
    bound = set(_MACRO_VARIABLE.findall(source))
    unknown_names = sorted(set(program.variables()) - allowed - bound)
    for name in unknown_names:
        if name in BINDINGS:
            problems.append(f"uses `{name}`, which this check's target does not bind ({_BINDS})")
        else:
            problems.append(f"uses the unknown name `{name}` (bindings: {_BINDS})")
    unknown_functions = sorted(
        f
        for f in program.functions()
        if not _is_operator(f) and f not in HELPERS and f not in CEL_BUILTINS
    )
    for name in unknown_functions:
        close = difflib.get_close_matches(name, [*HELPERS, *CEL_BUILTINS], n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"calls the unknown function `{name}`{hint}")
    return problems


_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
BINDINGS = ("obj", "objs", "objects")
_BINDS = "obj when the target names an object, objs when it names only a kind, objects always"
CEL_BUILTINS = frozenset(
    (
        *("size", "contains", "startsWith", "endsWith", "matches"),
        *("int", "uint", "double", "string", "bytes", "timestamp", "duration", "type", "dyn"),
        *("getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear"),
        *("getHours", "getMinutes", "getSeconds", "getMilliseconds"),
    )
)


def _is_operator(function: str) -> bool:
    # CEL reports operators by their overload ids: `_==_`, `!_`, `-_`, `@in`, `_?_:_`.
    return function[:1] in ("_", "@", "!", "-")


def _compile_error(exc: Exception) -> str:
    # "Failed to parse expression '...': ERROR: <input>:1:21: Syntax error: ...\n| source"
    errors = re.findall(r"ERROR: <input>:(\d+:\d+): ([^\n]*)", str(exc))
    if not errors:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return "; ".join(f"{where}: {what[:200]}" for where, what in errors[:2])


def _build_check(raw: Mapping[str, Any]) -> Check:
    target, _ = _target(raw.get("target"))
    return Check(
        id=raw["id"],
        title=raw["title"].strip(),
        expr=raw["expr"],
        message=raw["message"].strip(),
        hint=raw["hint"].strip(),
        target=target,
        weight=raw.get("weight", 1),
        found=raw.get("found"),
        live=raw.get("live", False),
    )


# -- evaluating ---------------------------------------------------------------------------------


def evaluate(checks: Sequence[Check], snapshot: Snapshot) -> RubricResult:
    """Grade `snapshot` against `checks`: one CheckResult per check, in order.

    Live checks are skipped on submitted manifests. A check whose target object is missing
    fails with a message that lists the objects of that kind that were found. A check whose
    expression fails on the learner's data (a missing field, a wrong type) fails with a
    message saying what could not be read. Nothing the learner submits makes this raise.
    """
    objects = [with_defaults(o) for o in snapshot.objects if isinstance(o, Mapping)]
    graded = Snapshot(tuple(objects), snapshot.source)
    contexts: dict[tuple[Any, ...], cel.Context] = {}
    results = [_evaluate_one(check, graded, contexts) for check in checks]
    applied = [(r, c.weight) for r, c in zip(results, checks, strict=True) if r.status != "skipped"]
    total = sum(weight for _, weight in applied)
    earned = sum(weight for r, weight in applied if r.status == "passed")
    score = round(100.0 * earned / total, 1) if total else 0.0
    passed = bool(applied) and all(r.status == "passed" for r, _ in applied)
    return RubricResult(tuple(results), score, passed)


def _evaluate_one(
    check: Check, snapshot: Snapshot, contexts: dict[tuple[Any, ...], cel.Context]
) -> CheckResult:
    def result(status: str, message: str = "") -> CheckResult:
        return CheckResult(check.id, check.title, status, message, check.hint, check.weight)

    if check.live and snapshot.source == "manifests":
        return result("skipped", LIVE_SKIP_REASON)
    variables: dict[str, Any] = {}
    target = check.target
    if target is not None and target.name:
        obj = snapshot.get(target.kind, target.name)
        if obj is None:
            return result("failed", _missing_message(target, snapshot))
        variables["obj"] = obj
    elif target is not None:
        objs = snapshot.of_kind(target.kind)
        if not objs:
            where = _where(snapshot)
            return result("failed", f"no {target.kind} was found {where}; the task needs one")
        variables["objs"] = objs
    if "objects" in check.uses:
        variables["objects"] = list(snapshot.objects)
    key = (target, "objects" in check.uses)
    context = contexts.get(key)
    if context is None:
        context = contexts[key] = cel.Context(variables=variables, functions=HELPERS)
    try:
        outcome = check.program.execute(context)
    # The CEL library raises many types for data it cannot evaluate (KeyError, TypeError,
    # IndexError, RuntimeError from a helper, ArithmeticError, ValueError on conversion); the
    # promise is that a learner's data never breaks grading, so every one becomes a failure.
    except Exception as exc:  # noqa: BLE001
        return result("failed", f"{_render(check, context, target)} ({_reason(exc)})")
    if outcome is True:
        return result("passed")
    if outcome is False:
        return result("failed", _render(check, context, target))
    return result(
        "failed",
        f"this check could not be graded: its rule gave {_display(outcome)!r}, not true or "
        "false (a rubric bug: please report it)",
    )


def _render(check: Check, context: cel.Context, target: Target | None) -> str:
    found = ""
    if check.found_program is not None:
        try:
            found = _display(check.found_program.execute(context))
        except (KeyError, IndexError, TypeError):
            found = "not set"  # a missing field, an index past the end, a field on null
        except Exception:  # noqa: BLE001  (same promise as for the expression itself)
            found = "unreadable"
    return (
        check.message.replace("{found}", found)
        .replace("{kind}", target.kind if target else "")
        .replace("{name}", (target.name or "") if target else "")
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"{exc.args[0] if exc.args else 'a field'} is not set"
    if isinstance(exc, IndexError):
        return "a list has fewer items than the check expects"
    if isinstance(exc, TypeError):
        return "a field is empty or holds a value of an unexpected type"
    text = str(exc)
    bug = re.search(r"RubricBug: (.*?)\.? Check function", text)
    if bug:
        return f"this check could not be graded: {bug.group(1)} (a rubric bug: please report it)"
    helper = re.search(r"Python function call failed: (?:\w+: )?(.*?)\.? Check function", text)
    if helper:
        return f"a value could not be read: {helper.group(1)}"
    if isinstance(exc, ArithmeticError):
        return "a number is out of range"
    first_line = text.splitlines()[0][:160] if text else type(exc).__name__
    return f"the check could not be evaluated: {first_line}"


def _where(snapshot: Snapshot) -> str:
    return "in the submitted manifests" if snapshot.source == "manifests" else "in your namespace"


def _missing_message(target: Target, snapshot: Snapshot) -> str:
    assert target.name is not None
    names = [_name(o) for o in snapshot.of_kind(target.kind)]
    text = f'{target.kind} "{target.name}" was not found {_where(snapshot)}'
    if names:
        shown = ", ".join(f'"{n}"' for n in names[:10]) + (", ..." if len(names) > 10 else "")
        plural = "s" if len(names) > 1 else ""
        text += f"; the {target.kind}{plural} found: {shown}"
        close = difflib.get_close_matches(target.name, names, n=1)
        if close:
            text += f' (is "{close[0]}" meant to be "{target.name}"?)'
    else:
        text += f"; no {target.kind} was found at all"
    other = sorted(
        {str(o.get("kind")) for o in snapshot.objects if _name(o) == target.name} - {target.kind}
    )
    if other:
        kinds = " and a ".join(other)
        text += f'. Found "{target.name}" as a {kinds}: the task asks for a {target.kind}'
    return text


def _name(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    return str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""


def _display(value: Any, limit: int = 200) -> str:
    """A value as a learner reads it: `5`, `true`, `nginx:1.27`, `[get, list]`, `not set`."""
    text = _display_inner(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _display_inner(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_display_inner(v) for v in value[:50]) + "]"
    if isinstance(value, Mapping):
        # Sorted: CEL hands maps back in hash order, and a message must not change between runs.
        items = sorted(value.items(), key=lambda item: str(item[0]))[:50]
        return "{" + ", ".join(f"{k}: {_display_inner(v)}" for k, v in items) + "}"
    return str(value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


# -- Kubernetes defaults ------------------------------------------------------------------------

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")


def with_defaults(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `obj` with the defaults the API server would fill in, where a field is absent.

    Only defaults that grading can depend on: Deployment `replicas` 1, `strategy.type`
    RollingUpdate with `maxSurge`/`maxUnavailable` 25%, `revisionHistoryLimit` 10; Job
    `completions`/`parallelism` 1 (as the API does), `backoffLimit` 6; CronJob
    `concurrencyPolicy` Allow, `suspend` false, `successfulJobsHistoryLimit` 3,
    `failedJobsHistoryLimit` 1; Service `type` ClusterIP, port `protocol` TCP, `targetPort` =
    `port`; NetworkPolicy `policyTypes` derived from its rules, rule port `protocol` TCP; pod
    `restartPolicy` Always (not in Job templates, which must set it); container port
    `protocol` TCP, `imagePullPolicy` from the tag; probe `periodSeconds` 10, `timeoutSeconds`
    1, `successThreshold` 1, `failureThreshold` 3, `initialDelaySeconds` 0; PVC `volumeMode`
    Filesystem. Objects read from a cluster already carry these; filling them again is a no-op.
    """
    out = _copy(obj)
    kind = out.get("kind")
    spec = out.get("spec")
    if not isinstance(spec, dict):
        return out
    if kind == "Pod":
        _pod_spec_defaults(spec, restart=True)
    elif kind == "Deployment":
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = _dict_at(spec, "strategy")
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = _dict_at(strategy, "rollingUpdate")
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")
        _template_defaults(spec, restart=True)
    elif kind in ("ReplicaSet", "StatefulSet"):
        spec.setdefault("replicas", 1)
        _template_defaults(spec, restart=True)
    elif kind == "DaemonSet":
        _template_defaults(spec, restart=True)
    elif kind == "Job":
        _job_defaults(spec)
    elif kind == "CronJob":
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job_template = spec.get("jobTemplate")
        if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
            _job_defaults(job_template["spec"])
    elif kind == "Service":
        spec.setdefault("type", "ClusterIP")
        if spec["type"] != "ExternalName":
            spec.setdefault("sessionAffinity", "None")
            for port in _dicts(spec.get("ports")):
                port.setdefault("protocol", "TCP")
                if "port" in port:
                    port.setdefault("targetPort", port["port"])
    elif kind == "NetworkPolicy":
        for direction in ("ingress", "egress"):
            for rule in _dicts(spec.get(direction)):
                for port in _dicts(rule.get("ports")):
                    port.setdefault("protocol", "TCP")
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress", *(["Egress"] if spec.get("egress") else [])]
    elif kind == "PersistentVolumeClaim":
        spec.setdefault("volumeMode", "Filesystem")
    return out


def _copy(value: Any) -> Any:
    """A copy of JSON-like data deep enough to fill defaults in: every mapping becomes a new
    dict and every list a new list; other values are immutable and shared (copy.deepcopy, with
    its memo and per-type dispatch, took twice as long on every verification)."""
    kind = type(value)
    if kind in _SCALAR_TYPES:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


_SCALAR_TYPES = frozenset((str, int, float, bool, type(None)))


def _dict_at(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        value = parent[key] = {}
    return value


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _job_defaults(spec: dict[str, Any]) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    _template_defaults(spec, restart=False)


def _template_defaults(spec: dict[str, Any], *, restart: bool) -> None:
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        _pod_spec_defaults(template["spec"], restart=restart)


def _pod_spec_defaults(spec: dict[str, Any], *, restart: bool) -> None:
    if restart:
        spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    for key in ("containers", "initContainers"):
        for container in _dicts(spec.get(key)):
            for port in _dicts(container.get("ports")):
                port.setdefault("protocol", "TCP")
            image = container.get("image")
            if isinstance(image, str) and "imagePullPolicy" not in container:
                ref = _parse_image(image)
                latest = ref is not None and ref[3] is None and ref[2] == "latest"
                container["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
            for probe_key in ("livenessProbe", "readinessProbe", "startupProbe"):
                probe = container.get(probe_key)
                if isinstance(probe, dict):
                    probe.setdefault("initialDelaySeconds", 0)
                    probe.setdefault("periodSeconds", 10)
                    probe.setdefault("timeoutSeconds", 1)
                    probe.setdefault("successThreshold", 1)
                    probe.setdefault("failureThreshold", 3)
                    http = probe.get("httpGet")
                    if isinstance(http, dict):
                        http.setdefault("scheme", "HTTP")
                        http.setdefault("path", "/")


# -- helpers ------------------------------------------------------------------------------------
# Every helper is total over JSON-like values: a learner's odd data gives False (or null), not an
# exception, so the check fails with its own message showing what was found.

HELPERS: dict[str, Callable[..., Any]] = {}

_DATA_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError, InvalidOperation)


class RubricBug(Exception):
    """A check calls a helper wrongly (the wrong number of arguments): the author's mistake,
    reported as such instead of being taken for a learner's odd data."""


def _helper(default: Any = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a CEL helper under its own name; bad input gives `default`."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        code = function.__code__
        most = code.co_argcount
        least = most - len(function.__defaults__ or ())

        @functools.wraps(function)
        def total(*args: Any) -> Any:
            if not least <= len(args) <= most:
                wanted = str(most) if least == most else f"{least} to {most}"
                raise RubricBug(f"{function.__name__}() takes {wanted} arguments, not {len(args)}")
            try:
                return function(*args)
            except _DATA_ERRORS:
                return default

        HELPERS[function.__name__] = total
        return total

    return register


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@_helper()
def field(value: Any, path: Any, default: Any = None) -> Any:
    """`field(obj, 'spec.strategy.type', 'none')`: the value at a dotted path, or `default`
    when any step is missing or null. A list path reads keys that contain dots:
    `field(obj, ['metadata', 'labels', 'app.kubernetes.io/name'], '')`."""
    steps = path.split(".") if isinstance(path, str) else list(path)
    for step in steps:
        if isinstance(value, Mapping) and step in value:
            value = value[step]
        elif isinstance(value, list) and str(step).isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return default
        if value is None:
            return default
    return value


# quantities


def _quantity(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError("not a quantity")
    return parse_quantity(value)


@_helper(default=False)
def quantity_eq(actual: Any, expected: Any) -> bool:
    """`quantity_eq(c.resources.requests.cpu, '250m')`: equal as quantities (`250m` == `0.25`,
    `128Mi` == `134217728`, `1Gi` != `1G`). False when either is missing or not a quantity."""
    return _quantity(actual) == _quantity(expected)


@_helper(default=False)
def quantity_ge(actual: Any, expected: Any) -> bool:
    """`quantity_ge(obj.spec.resources.requests.storage, '200Mi')`: at least `expected`."""
    return _quantity(actual) >= _quantity(expected)


@_helper(default=False)
def quantity_le(actual: Any, expected: Any) -> bool:
    """`quantity_le(x, '1Gi')`: at most `expected`."""
    return _quantity(actual) <= _quantity(expected)


@_helper()
def quantity_value(value: Any) -> float | None:
    """The quantity as a number (`'250m'` -> 0.25), or null when it is not a quantity."""
    return float(_quantity(value))


@_helper()
def quota_hard(quota: Any, resource: Any) -> Any:
    """A ResourceQuota's hard limit for `resource`, accepting its alias: `requests.cpu` is also
    written `cpu`, `requests.memory` also `memory` (the quota system treats them as one)."""
    hard = _map(_map(_map(quota).get("spec")).get("hard"))
    aliases = {
        "requests.cpu": "cpu",
        "requests.memory": "memory",
        "requests.ephemeral-storage": "ephemeral-storage",
    }
    reverse = {v: k for k, v in aliases.items()}
    for key in (resource, aliases.get(resource), reverse.get(resource)):
        if key is not None and key in hard:
            return hard[key]
    return None


@_helper()
def int_or_percent(value: Any, total: Any, round_up: Any) -> int | None:
    """An int-or-percent field as a count: `int_or_percent('25%', 4, true)` is 1. Kubernetes
    rounds `maxSurge` up and `maxUnavailable` down; pass `round_up` to match."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.endswith("%") or isinstance(total, bool) or not isinstance(total, int):
        return None
    percent = Decimal(text[:-1])
    scaled = percent * total / 100
    whole = int(scaled)
    return whole + 1 if round_up and scaled != whole else whole


# pods, containers and volumes


def _pod_spec(value: Any) -> Mapping[str, Any]:
    obj = _map(value)
    if "containers" in obj and "kind" not in obj:
        return obj  # already a pod spec
    kind = obj.get("kind")
    spec = _map(obj.get("spec"))
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = _map(_map(spec.get("jobTemplate")).get("spec"))
    if kind == "PodTemplate":
        return _map(_map(obj.get("template")).get("spec"))
    return _map(_map(spec.get("template")).get("spec"))


@_helper()
def pod_spec(obj: Any) -> Mapping[str, Any] | None:
    """The pod spec of a Pod, a workload's pod template, or a CronJob's job template; null for
    other kinds."""
    spec = _pod_spec(obj)
    return spec if spec else None


@_helper(default={})
def pod_labels(obj: Any) -> Mapping[str, Any]:
    """A Pod's labels, or the labels of a workload's pod template (CronJob included)."""
    obj = _map(obj)
    if obj.get("kind") == "Pod":
        return _map(_map(obj.get("metadata")).get("labels"))
    spec = _map(obj.get("spec"))
    if obj.get("kind") == "CronJob":
        spec = _map(_map(spec.get("jobTemplate")).get("spec"))
    return _map(_map(_map(spec.get("template")).get("metadata")).get("labels"))


def _native_sidecars(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        c for c in _list(spec.get("initContainers")) if _map(c).get("restartPolicy") == "Always"
    ]


@_helper(default=[])
def containers(obj: Any) -> list[Mapping[str, Any]]:
    """Every container that runs for the pod's life: `containers` plus native sidecars (init
    containers with `restartPolicy: Always`). Accepts a Pod, a workload or a pod spec."""
    spec = _pod_spec(obj)
    return [c for c in _list(spec.get("containers")) if isinstance(c, Mapping)] + _native_sidecars(
        spec
    )


@_helper(default=[])
def init_containers(obj: Any) -> list[Mapping[str, Any]]:
    """Init containers that run to completion before the app (native sidecars excluded)."""
    spec = _pod_spec(obj)
    return [
        c
        for c in _list(spec.get("initContainers"))
        if isinstance(c, Mapping) and c.get("restartPolicy") != "Always"
    ]


@_helper()
def container(obj: Any, name: Any) -> Mapping[str, Any] | None:
    """The running container named `name` (a regular container or a native sidecar), or null."""
    for c in containers(obj):
        if c.get("name") == name:
            return c
    return None


@_helper(default=False)
def is_native_sidecar(obj: Any, name: Any) -> bool:
    """True when `name` is an init container with `restartPolicy: Always`."""
    return any(c.get("name") == name for c in _native_sidecars(_pod_spec(obj)))


@_helper(default=False)
def has_sidecar(obj: Any, name: Any) -> bool:
    """True when container `name` runs beside at least one other container, either as a
    classic second container or as a native sidecar. Both are correct answers."""
    running = containers(obj)
    return any(c.get("name") == name for c in running) and len(running) >= 2


def _clean_path(path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    return path.rstrip("/") or "/"


@_helper(default=[])
def mount_paths(container_: Any, volume: Any) -> list[str]:
    """Where a container mounts the volume named `volume` (trailing `/` ignored), in order."""
    paths = []
    for mount in _list(_map(container_).get("volumeMounts")):
        if _map(mount).get("name") == volume:
            path = _clean_path(mount.get("mountPath"))
            if path:
                paths.append(path)
    return paths


@_helper()
def mount_path(container_: Any, volume: Any) -> str | None:
    """The first path where a container mounts volume `volume`, or null."""
    paths = mount_paths(container_, volume)
    return paths[0] if paths else None


@_helper(default=False)
def mounts(container_: Any, volume: Any) -> bool:
    """True when the container mounts the volume named `volume` (null container: false)."""
    return bool(mount_paths(container_, volume))


@_helper()
def volume(obj: Any, name: Any) -> Mapping[str, Any] | None:
    """The pod volume named `name`, or null."""
    for v in _list(_pod_spec(obj).get("volumes")):
        if _map(v).get("name") == name:
            return v
    return None


_SOURCE_KEYS = {
    "PersistentVolumeClaim": ("persistentVolumeClaim", "claimName"),
    "ConfigMap": ("configMap", "name"),
    "Secret": ("secret", "secretName"),
}


def _volume_sources(vol: Mapping[str, Any]) -> list[tuple[str, Any]]:
    found = []
    for kind, (key, name_key) in _SOURCE_KEYS.items():
        if isinstance(vol.get(key), Mapping):
            found.append((kind, vol[key].get(name_key)))
    for source in _list(_map(vol.get("projected")).get("sources")):
        for kind, key in (("ConfigMap", "configMap"), ("Secret", "secret")):
            if isinstance(_map(source).get(key), Mapping):
                found.append((kind, source[key].get("name")))
    return found


@_helper(default=[])
def mount_paths_of(obj: Any, kind: Any, name: Any) -> list[str]:
    """Every path where any running container mounts the `kind` (PersistentVolumeClaim,
    ConfigMap or Secret; projected volumes count) named `name`, whatever the volume is called.
    Mounts with a `subPath` show one file, not the whole source, and are left out."""
    volumes = [
        _map(v).get("name")
        for v in _list(_pod_spec(obj).get("volumes"))
        if (kind, name) in _volume_sources(_map(v))
    ]
    paths = []
    for c in containers(obj):
        for mount in _list(c.get("volumeMounts")):
            mount = _map(mount)
            if mount.get("name") in volumes and not mount.get("subPath"):
                path = _clean_path(mount.get("mountPath"))
                if path and path not in paths:
                    paths.append(path)
    return paths


# ports


@_helper()
def port_number(container_: Any, port: Any) -> int | None:
    """A port given by number or by the name of one of the container's ports, as a number
    (`port_number(c, 'http')` is 8080 when the container names 8080 `http`), or null."""
    if isinstance(port, bool):
        return None
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port:
        for p in _list(_map(container_).get("ports")):
            if _map(p).get("name") == port and isinstance(p.get("containerPort"), int):
                return p["containerPort"]
    return None


@_helper()
def pod_port_number(obj: Any, port: Any) -> int | None:
    """Like `port_number`, resolving a name against every container of the pod (what a
    Service's named `targetPort` does)."""
    if isinstance(port, int) and not isinstance(port, bool):
        return port
    spec = _pod_spec(obj)
    for c in _list(spec.get("containers")) + _list(spec.get("initContainers")):
        number = port_number(c, port)
        if number is not None:
            return number
    return None


@_helper()
def probe_port(probe: Any) -> Any:
    """The port a probe checks (`httpGet`, `tcpSocket` or `grpc`), by number or name; null for
    an exec probe or no probe."""
    probe = _map(probe)
    for key in ("httpGet", "tcpSocket", "grpc"):
        if isinstance(probe.get(key), Mapping):
            return probe[key].get("port")
    return None


@_helper(default=False)
def port_matches(container_: Any, port: Any, expected: Any) -> bool:
    """True when `port` (number or name) is the same container port as `expected` (number or
    name): `port_matches(c, c.readinessProbe.httpGet.port, 8080)`."""
    actual = port_number(container_, port)
    return actual is not None and actual == port_number(container_, expected)


@_helper()
def command_text(command: Any) -> str | None:
    """A command as one line, with a shell wrapper removed: `['sh', '-c', 'cat /tmp/healthy']`
    and `['cat', '/tmp/healthy']` both read `cat /tmp/healthy`. Also takes an exec probe."""
    probe = _map(command)
    if "exec" in probe:
        command = _map(probe.get("exec")).get("command")
    if not isinstance(command, list) or not all(isinstance(part, str) for part in command):
        return None
    shells = ("sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "ash")
    if len(command) == 3 and command[0] in shells and command[1] == "-c":
        return " ".join(command[2].split())
    return " ".join(" ".join(command).split())


# env


def _env_entry(container_: Any, var: Any) -> Mapping[str, Any] | None:
    entry = None
    for e in _list(_map(container_).get("env")):
        if _map(e).get("name") == var:
            entry = e  # a repeated name: the last entry wins
    return entry


def _env_from(container_: Any, var: Any, ref_key: str, name: Any, key: Any) -> bool:
    entry = _env_entry(container_, var)
    if entry is not None:
        ref = _map(_map(entry.get("valueFrom")).get(f"{ref_key}KeyRef"))
        return ref.get("name") == name and ref.get("key") == key
    # No explicit entry: an envFrom source provides `prefix + key` for each of its keys.
    for source in _list(_map(container_).get("envFrom")):
        source = _map(source)
        ref = _map(source.get(f"{ref_key}Ref"))
        if ref.get("name") == name and f"{source.get('prefix') or ''}{key}" == var:
            return True
    return False


@_helper(default=False)
def env_from_configmap(container_: Any, var: Any, configmap: Any, key: Any) -> bool:
    """True when env var `var` comes from key `key` of ConfigMap `configmap`, through
    `env[].valueFrom.configMapKeyRef` or `envFrom[].configMapRef` (with its `prefix`). An
    explicit `env` entry of the same name overrides `envFrom`, as in Kubernetes."""
    return _env_from(container_, var, "configMap", configmap, key)


@_helper(default=False)
def env_from_secret(container_: Any, var: Any, secret: Any, key: Any) -> bool:
    """True when env var `var` comes from key `key` of Secret `secret`, through
    `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef`."""
    return _env_from(container_, var, "secret", secret, key)


@_helper()
def env_value(container_: Any, var: Any) -> Any:
    """The literal `value` of env var `var`, or null when it is unset or comes from a source."""
    entry = _env_entry(container_, var)
    return entry.get("value") if entry is not None and "valueFrom" not in entry else None


@_helper(default="not set")
def env_source(container_: Any, var: Any) -> str:
    """Where env var `var` comes from, for messages: `Secret db-creds key password`,
    `ConfigMap app-config (envFrom)`, `value "x"`, or `not set`."""
    entry = _env_entry(container_, var)
    if entry is not None:
        value_from = _map(entry.get("valueFrom"))
        for key, label in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = _map(value_from.get(key))
            if ref:
                return f"{label} {ref.get('name')} key {ref.get('key')}"
        if value_from:
            # Sorted: CEL hands maps to helpers in hash order, and a message must not change
            # between runs (`valueFrom key, name` and `valueFrom name, key` both happened).
            return f"valueFrom {', '.join(sorted(str(k) for k in value_from))}"
        return f'value "{entry.get("value", "")}"'
    sources = []
    for source in _list(_map(container_).get("envFrom")):
        for key, label in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = _map(_map(source).get(key))
            if ref:
                sources.append(f"{label} {ref.get('name')}")
    return f"{' or '.join(sources)} (envFrom)" if sources else "not set"


@_helper(default=False)
def secret_has_key(secret: Any, key: Any) -> bool:
    """True when the Secret has a non-empty `key` in `data` or `stringData` (values are not
    read: a cluster snapshot redacts them)."""
    secret = _map(secret)
    return any(bool(_map(secret.get(part)).get(key)) for part in ("data", "stringData"))


# security context

_POD_AND_CONTAINER_SECURITY = (
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
)


@_helper()
def effective_security(obj: Any, container_: Any, name: Any) -> Any:
    """The security setting `name` that applies to a container: its own `securityContext`
    value, else the pod's for the settings that exist at both levels (`runAsUser`,
    `runAsNonRoot`, `seccompProfile`, ...), as Kubernetes resolves them. So `runAsNonRoot: true`
    may be set on the pod or on every container. Null when set nowhere."""
    own = _map(_map(container_).get("securityContext"))
    if own.get(name) is not None:
        return own[name]
    if name in _POD_AND_CONTAINER_SECURITY:
        return _map(_pod_spec(obj).get("securityContext")).get(name)
    return None


# cron

_CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_FIELDS = (  # (low, high, names) as Kubernetes' cron parser (robfig/cron) bounds them
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    (0, 6, {d: i for i, d in enumerate(_WEEKDAYS)}),
)
_CRON_PART = re.compile(r"^(\*|\?|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/([0-9]+))?$")
_CRON_BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # fixed: the domain never reads a clock
CRON_DAYS = 800
"""Most firing days compared when two schedules have the same times of day but are not spelled
alike; the walk also stops after two years (_CRON_HORIZON), enough for a month or a leap day
left out to show."""
_CRON_HORIZON = dt.datetime(2026, 1, 2, tzinfo=dt.UTC).timestamp()


def _cron_canonical(schedule: Any) -> str | None:
    """The schedule in numbers, as Kubernetes reads it, or None when Kubernetes refuses it.

    Kubernetes (robfig/cron) accepts 5 fields or a macro, names for months and weekdays, `?`
    for `*`, and weekdays 0-6 only. A one-value range such as `2-2` is that value (croniter
    would read it as the whole field, hence this pass before croniter sees it).
    """
    if not isinstance(schedule, str):
        return None
    text = " ".join(schedule.lower().split())
    text = _CRON_MACROS.get(text, text)
    fields = text.split(" ")
    if len(fields) != 5 or text.startswith(("tz=", "cron_tz=")):
        return None
    out = []
    for value, (low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        parts = []
        for part in value.split(","):
            match = _CRON_PART.match(part)
            if not match:
                return None
            start, end, step = match.groups()
            if start in ("*", "?"):
                if end is not None:
                    return None
                parts.append("*" + (f"/{step}" if step else ""))
                continue
            numbers = []
            for item in (start, end):
                if item is None:
                    continue
                number = names.get(item, int(item) if item.isdigit() else None)
                if number is None or not low <= number <= high:
                    return None
                numbers.append(number)
            if step is not None and int(step) == 0:
                return None
            if len(numbers) == 2 and numbers[0] > numbers[1]:
                return None
            if len(numbers) == 2 and numbers[0] == numbers[1]:
                numbers, step = numbers[:1], None  # `2-2/5` is just 2
            text_part = "-".join(str(n) for n in numbers)
            parts.append(text_part + (f"/{step}" if step else ""))
        out.append(",".join(parts))
    return " ".join(out)


@functools.lru_cache(maxsize=256)
def _cron_equivalent(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        first, second = croniter(a, _CRON_BASE), croniter(b, _CRON_BASE)
        if first.expanded == second.expanded:
            return True  # croniter's normal form: `0-6`, `*/1`, `0,1,...,6` all read `*`
        if first.expanded[:2] != second.expanded[:2]:
            return False  # different minutes or hours: some fire time differs
        # Same times of day; the days may still agree (`1-31` days OR weekdays is every day):
        # walk the firing days in step, stopping at the first difference.
        days_a = croniter("0 0 " + a.split(" ", 2)[2], _CRON_BASE)
        days_b = croniter("0 0 " + b.split(" ", 2)[2], _CRON_BASE)
        for _ in range(CRON_DAYS):
            day = days_a.get_next(float)
            if day != days_b.get_next(float):
                return False
            if day > _CRON_HORIZON:
                break
        return True
    except (ValueError, KeyError, TypeError):  # CroniterBadDateError: it never fires
        return False


@_helper(default=False)
def cron_equivalent(actual: Any, expected: Any) -> bool:
    """True when two schedules fire at the same times: `0 2 * * *` == `00 02 * * *` ==
    `0 2 * * 0-6` == `0 2 * * SUN-SAT`. Compared on what Kubernetes would run: a schedule
    Kubernetes refuses (`0 2 * * 7`, six fields) matches nothing."""
    a, b = _cron_canonical(actual), _cron_canonical(expected)
    return a is not None and b is not None and _cron_equivalent(a, b)


# images

_DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")
_REGISTRY_ALIASES = {"k8s.gcr.io": "registry.k8s.io"}  # the old registry redirects to the new


def _parse_image(ref: Any) -> tuple[str, str, str | None, str | None] | None:
    """(registry, repository, tag, digest) with Docker's defaults, or None if unreadable."""
    if not isinstance(ref, str) or not ref.strip() or any(c.isspace() for c in ref.strip()):
        return None
    name, _, digest = ref.strip().partition("@")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first.lower(), rest
    else:
        registry, repository = "docker.io", name
    if registry in _DOCKER_HUB:
        registry = "docker.io"
        if "/" not in repository:
            repository = f"library/{repository}"
    registry = _REGISTRY_ALIASES.get(registry, registry)
    if not repository or tag == "" or (digest == "" and "@" in ref):
        return None
    if tag is None and not digest:
        tag = "latest"
    return registry, repository, tag, digest or None


@_helper(default=False)
def image_is(actual: Any, expected: Any) -> bool:
    """True when two image references name the same image: `docker.io/library/nginx:1.27` is
    `nginx:1.27`, no tag means `latest`, `k8s.gcr.io/x` is `registry.k8s.io/x`. A digest in
    `expected` must match; a digest added to the expected tag is accepted."""
    a, e = _parse_image(actual), _parse_image(expected)
    if a is None or e is None or a[:2] != e[:2]:
        return False
    if e[3] is not None:
        return a[3] == e[3]
    return a[2] == e[2]


@_helper(default=False)
def image_is_any_tag(actual: Any, expected: Any) -> bool:
    """True when `actual` is the repository of `expected` with any tag or digest (for tasks
    that allow any tag): `image_is_any_tag('nginx', 'docker.io/library/nginx')`."""
    a, e = _parse_image(actual), _parse_image(expected)
    return a is not None and e is not None and a[:2] == e[:2]


@_helper()
def image_tag(ref: Any) -> str | None:
    """The tag of an image reference (`latest` when there is neither tag nor digest)."""
    parsed = _parse_image(ref)
    return parsed[2] if parsed else None


@_helper()
def image_name(ref: Any) -> str | None:
    """The normalised repository: `nginx:1.27` -> `docker.io/library/nginx`."""
    parsed = _parse_image(ref)
    return f"{parsed[0]}/{parsed[1]}" if parsed else None


# labels and selectors


@_helper(default=False)
def labels_include(labels: Any, required: Any) -> bool:
    """True when `labels` has every key/value of `required`; extra labels are fine."""
    labels, required = _map(labels), _map(required)
    return all(labels.get(k) == v for k, v in required.items())


@_helper(default=False)
def selector_matches(selector: Any, labels: Any) -> bool:
    """A LabelSelector (`matchLabels` and `matchExpressions`: In, NotIn, Exists, DoesNotExist)
    against labels. An empty selector `{}` matches everything; null matches nothing."""
    if not isinstance(selector, Mapping):
        return False
    labels = _map(labels)
    if not labels_include(labels, selector.get("matchLabels")):
        return False
    for expression in _list(selector.get("matchExpressions")):
        expression = _map(expression)
        key, operator = expression.get("key"), expression.get("operator")
        values = _list(expression.get("values"))
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


@_helper(default=False)
def service_selects(service: Any, workload: Any) -> bool:
    """True when a Service's selector (non-empty) matches a Pod's or a workload's pod template
    labels. Either side may have been changed to make them match; extra pod labels are fine."""
    selector = _map(_map(_map(service).get("spec")).get("selector"))
    return bool(selector) and labels_include(pod_labels(workload), selector)


# RBAC


def _permission(verb: str, resource: str, group: str) -> str:
    return f"{verb} {resource}.{group}" if group else f"{verb} {resource}"


@_helper(default=[])
def rbac_permissions(role: Any) -> list[str]:
    """A Role's or ClusterRole's rules as a sorted set of permissions, however they are split:
    `get pods`, `list deployments.apps`, `get pods/log`; `get pods named web` for rules
    restricted by `resourceNames`; `get /healthz` for non-resource URLs. `*` stays literal."""
    permissions: set[str] = set()
    for rule in _list(_map(role).get("rules")):
        rule = _map(rule)
        verbs = [str(v) for v in _list(rule.get("verbs"))]
        names = [str(n) for n in _list(rule.get("resourceNames"))]
        for group in _list(rule.get("apiGroups")):
            for resource in _list(rule.get("resources")):
                for verb in verbs:
                    base = _permission(verb, str(resource), str(group))
                    if names:
                        permissions.update(f"{base} named {n}" for n in names)
                    else:
                        permissions.add(base)
        for url in _list(rule.get("nonResourceURLs")):
            permissions.update(f"{verb} {url}" for verb in verbs)
    return sorted(permissions)


def _expected_permissions(expected: Any) -> set[str]:
    return {" ".join(str(p).split()) for p in _list(expected)}


@_helper(default=False)
def rbac_grants_exactly(role: Any, expected: Any) -> bool:
    """True when the role grants exactly `expected` (e.g. `['get pods', 'list pods']`): nothing
    missing, nothing extra. A `*` verb, resource or group counts as extra."""
    return set(rbac_permissions(role)) == _expected_permissions(expected)


def _covers(granted: str, wanted: str) -> bool:
    g_verb, _, g_rest = granted.partition(" ")
    w_verb, _, w_rest = wanted.partition(" ")
    if " named " in g_rest:  # a rule for some names only grants no general permission
        return granted == wanted
    if g_verb not in ("*", w_verb):
        return False
    g_resource, _, g_group = g_rest.partition(".")
    w_resource, _, w_group = w_rest.split(" named ")[0].partition(".")
    return g_resource in ("*", w_resource) and g_group in ("*", w_group)


@_helper(default=False)
def rbac_grants(role: Any, expected: Any) -> bool:
    """True when the role grants at least `expected`; wildcards count as granting."""
    granted = rbac_permissions(role)
    return all(any(_covers(g, w) for g in granted) for w in _expected_permissions(expected))


@_helper(default=[])
def rbac_extra(role: Any, expected: Any) -> list[str]:
    """The role's permissions beyond `expected` (for messages)."""
    return sorted(set(rbac_permissions(role)) - _expected_permissions(expected))


@_helper(default=[])
def rbac_missing(role: Any, expected: Any) -> list[str]:
    """The `expected` permissions the role does not grant exactly (for messages)."""
    return sorted(_expected_permissions(expected) - set(rbac_permissions(role)))


# live state


@_helper(default=False)
def owned_by(obj: Any, owner: Any) -> bool:
    """True when `obj` lists `owner` in its ownerReferences (kind and name; uid too when both
    carry one), as a ReplicaSet is owned by its Deployment."""
    owner = _map(owner)
    metadata = _map(owner.get("metadata"))
    for ref in _list(_map(_map(obj).get("metadata")).get("ownerReferences")):
        ref = _map(ref)
        if ref.get("kind") == owner.get("kind") and ref.get("name") == metadata.get("name"):
            if ref.get("uid") and metadata.get("uid") and ref["uid"] != metadata["uid"]:
                continue
            return True
    return False


@_helper(default=[])
def pods_for(objects: Any, workload: Any) -> list[Mapping[str, Any]]:
    """The Pods among `objects` that a workload's selector (or a Service's) selects; a Pod
    selects itself."""
    workload = _map(workload)
    pods = [o for o in _list(objects) if _map(o).get("kind") == "Pod"]
    if workload.get("kind") == "Pod":
        return [p for p in pods if _name(p) == _name(workload)]
    spec = _map(workload.get("spec"))
    if workload.get("kind") == "Service":
        selector = _map(spec.get("selector"))
        return [p for p in pods if selector and labels_include(pod_labels(p), selector)]
    if workload.get("kind") == "CronJob":
        spec = _map(_map(spec.get("jobTemplate")).get("spec"))
    selector = spec.get("selector")
    if isinstance(selector, Mapping) and selector:
        return [p for p in pods if selector_matches(selector, pod_labels(p))]
    labels = pod_labels(workload)
    return [p for p in pods if labels and labels_include(pod_labels(p), labels)]


def _condition(obj: Any, kind: str) -> bool:
    for condition in _list(_map(_map(obj).get("status")).get("conditions")):
        if _map(condition).get("type") == kind:
            return condition.get("status") == "True"
    return False


@_helper(default=False)
def pod_ready(pod: Any) -> bool:
    """True when the Pod's `Ready` condition is True (every container ready)."""
    return _condition(pod, "Ready")


@_helper(default=[])
def waiting_reasons(pod: Any) -> list[str]:
    """Why the Pod's containers wait (`ImagePullBackOff`, `CrashLoopBackOff`, ...), if they do."""
    status = _map(_map(pod).get("status"))
    reasons = []
    for key in ("initContainerStatuses", "containerStatuses"):
        for container_status in _list(status.get(key)):
            waiting = _map(_map(_map(container_status).get("state")).get("waiting"))
            if waiting.get("reason"):
                reasons.append(str(waiting["reason"]))
    return reasons


@_helper(default=0)
def ready_endpoints(objects: Any, service: Any) -> int:
    """How many ready endpoints back a Service: from its EndpointSlices (label
    `kubernetes.io/service-name`) or, when there are none, from its Endpoints object."""
    name = _name(_map(service))
    slices = [
        o
        for o in _list(objects)
        if _map(o).get("kind") == "EndpointSlice"
        and _map(_map(o.get("metadata")).get("labels")).get("kubernetes.io/service-name") == name
    ]
    if slices:
        count = 0
        for endpoint_slice in slices:
            for endpoint in _list(endpoint_slice.get("endpoints")):
                ready = _map(_map(endpoint).get("conditions")).get("ready")
                if ready is not False:  # unset means ready
                    count += len(_list(endpoint.get("addresses"))) or 1
        return count
    for o in _list(objects):
        if _map(o).get("kind") == "Endpoints" and _name(o) == name:
            return sum(len(_list(_map(s).get("addresses"))) for s in _list(o.get("subsets")))
    return 0


def helper_names() -> list[str]:
    """Every helper a check may call, sorted (docs/rubrics.md documents each)."""
    return sorted(HELPERS)
