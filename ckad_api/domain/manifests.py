"""Submitted manifests: multi-document YAML a learner pastes or uploads, read safely.

`parse_manifests` turns the text into the plain objects a rubric grades (the same shapes the
Kubernetes API returns), and `schema_warnings` says where an object would be refused by the API
server. Pure: PyYAML (with libyaml when present) and the schemas `kubernetes_validate` ships.

The text is hostile until proven otherwise, so every cost is bounded before it is paid:
- size (`max_bytes`) is checked before any parsing;
- a first pass over the parser's events (in C, no Python objects built) bounds nesting depth,
  the number of nodes and the alias uses of each document, so neither a 5,000-level nesting nor
  a "billion laughs" alias bomb reaches the constructor;
- after construction, the size of each document with its aliases expanded is counted against
  the same node budget (aliases share Python objects; expanding them happens later, in the
  grader), and the data is copied into plain, unshared dicts and lists.
Every failure is a ManifestError (422 `invalid-manifests`); nothing else escapes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import kubernetes_validate
import yaml
from kubernetes_validate import utils as kv_utils

from .errors import DomainError

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted; real objects stay well under 20."""
MAX_NODES = 100_000
"""Most YAML nodes in one submission, aliases expanded (512 kB of real manifests is ~80,000)."""
MAX_ALIASES = 20
"""Most alias uses (`*name`, `<<: *name`) in one document."""
MAX_PROBLEMS = 20
"""Most structural problems listed in one error."""

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

# The API version each built-in kind is served at in current Kubernetes. Used only to turn
# "no schema for this apiVersion" into a useful warning for kinds that exist under another one
# (extensions/v1beta1 Deployments, batch/v1beta1 CronJobs); any other kind is a CRD: no warning.
SERVED_API_VERSIONS = {
    "Pod": "v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "ServiceAccount": "v1",
    "PersistentVolumeClaim": "v1",
    "PersistentVolume": "v1",
    "Namespace": "v1",
    "ResourceQuota": "v1",
    "LimitRange": "v1",
    "Endpoints": "v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "Ingress": "networking.k8s.io/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "EndpointSlice": "discovery.k8s.io/v1",
    "StorageClass": "storage.k8s.io/v1",
}


class ManifestError(DomainError):
    """The submitted text cannot be read as Kubernetes manifests.

    `extra` carries `line` and `column` (1-based) when the YAML itself is broken, and
    `document` (1-based, counting every `---` document) when one object is malformed.
    """

    status = 422
    type_slug = "invalid-manifests"
    title = "Invalid manifests"


@dataclasses.dataclass(frozen=True)
class ParsedManifests:
    """The objects of a submission, in document order, `List` wrappers unwrapped.

    Objects are plain dicts and lists (no shared sub-objects), with `metadata.managedFields`
    and kubectl's last-applied annotation removed. `documents` counts non-empty documents.
    """

    objects: tuple[dict[str, Any], ...]
    documents: int


def parse_manifests(
    text: str | bytes, max_bytes: int = 512_000, max_documents: int = 100
) -> ParsedManifests:
    """Read multi-document YAML into Kubernetes objects, or raise ManifestError.

    Accepts what a learner writes and what `kubectl get -o yaml` prints: empty documents are
    skipped, `kind: List` (and typed `*List`) items are unwrapped, `status` is kept. Each object
    must be a mapping with `apiVersion`, `kind` and `metadata.name`. At most `max_documents`
    documents and as many objects; at most `max_bytes` of UTF-8.
    """
    text = _decode(text, max_bytes)
    _prescan(text)
    objects: list[dict[str, Any]] = []
    problems: list[tuple[int, int, str]] = []  # (document, line, "item N: problem" or problem)
    documents = 0
    budget = _Budget(MAX_NODES)
    loader = _Loader(text)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            index += 1
            line = node.start_mark.line + 1
            data = loader.construct_document(node)
            if data is None:
                continue  # an empty document, such as a trailing `---`
            documents += 1
            if documents > max_documents:
                raise ManifestError(
                    f"too many documents: at most {max_documents} are accepted",
                    limit=max_documents,
                )
            budget.spend(data, line)
            for obj, item in _unwrap(_plain(data), ""):
                problem = _object_problem(obj)
                if problem:
                    problems.append((index, line, f"{item}: {problem}" if item else problem))
                else:
                    objects.append(_denoise(obj))
            if len(objects) > max_documents:
                raise ManifestError(
                    f"too many objects: at most {max_documents} are accepted",
                    limit=max_documents,
                )
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text) from None
    finally:
        loader.dispose()
    if problems:
        shown = problems[:MAX_PROBLEMS]
        first_doc, first_line, _ = shown[0]
        errors: dict[str, list[str]] = {}
        for doc, _, problem in shown:
            errors.setdefault(f"document {doc}", []).append(problem)
        more = len(problems) - len(shown)
        raise ManifestError(
            "; ".join(f"document {d} (line {n}) {p}" for d, n, p in shown)
            + (f"; and {more} more" if more else ""),
            errors=errors,
            document=first_doc,
            line=first_line,
        )
    if not objects:
        raise ManifestError("no Kubernetes object was found in the submitted text")
    return ParsedManifests(tuple(objects), documents)


def schema_warnings(
    objects: Iterable[Mapping[str, Any]], kubernetes_version: str = "1.37.0"
) -> list[str]:
    """Where each object breaks the API's schema (strict: unknown fields count), as warnings.

    One line per object at most (the first problem found), such as
    `Deployment web: spec.replicas: 'six' is not of type 'integer'`. A built-in kind under an
    API version that Kubernetes no longer serves gets a warning naming the current one; kinds
    the schemas do not know (CRDs) get none. Warnings, not failures: grading goes on.
    """
    warnings: list[str] = []
    for obj in objects:
        kind, name = str(obj.get("kind")), str((obj.get("metadata") or {}).get("name"))
        api_version = obj.get("apiVersion")
        # kubernetes_validate builds a schema file name from both: only well-formed ones reach it.
        if not isinstance(api_version, str) or not _API_VERSION.match(api_version):
            warnings.append(f"{kind} {name}: apiVersion {api_version!r} is not an API version")
            continue
        if not _KIND.match(kind):
            warnings.append(f"{kind} {name}: kind {kind!r} is not a Kubernetes kind")
            continue
        try:
            validator = _validator(kubernetes_version, kind, api_version)
            error = next(validator.iter_errors(dict(obj)), None)
            if error is not None:
                where = _json_path(error.path)
                warnings.append(
                    f"{kind} {name}: {where + ': ' if where else ''}{_says(error.message)}"
                )
        except kubernetes_validate.SchemaNotFoundError:
            served = SERVED_API_VERSIONS.get(kind)
            if served and obj.get("apiVersion") != served:
                warnings.append(
                    f"{kind} {name}: apiVersion {obj.get('apiVersion')} does not serve {kind} "
                    f"in Kubernetes {_minor(kubernetes_version)}; use {served}"
                )
        except kv_utils.InvalidSchemaError:
            continue  # a broken schema file in the library is not the learner's problem
    return warnings


@functools.lru_cache(maxsize=256)
def _validator(kubernetes_version: str, kind: str, api_version: str) -> Any:
    """A compiled strict validator for one kind, built once.

    `kubernetes_validate.validate` reads and parses the schema files (megabytes of JSON) on
    every call, about 30 ms per object; the same files and rules, compiled once per kind,
    validate in well under a millisecond. The file layout below is the library's.
    """
    from jsonschema.validators import Draft202012Validator
    from referencing import Registry, Resource

    minor = kv_utils.major_minor(kubernetes_version)
    version = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= minor][-1]
    schema_dir = f"v{version}-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv_utils.schema_contents(
            f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group_version}.json",
            kubernetes_version,
        )
    except FileNotFoundError:
        raise kubernetes_validate.SchemaNotFoundError(
            version=minor, kind=kind, api_version=api_version
        ) from None
    registry = Resource.from_contents(schema) @ Registry()
    registry = _definitions(schema_dir, kubernetes_version) @ registry
    return Draft202012Validator(schema, registry=registry)


@functools.lru_cache(maxsize=4)
def _definitions(schema_dir: str, kubernetes_version: str) -> Any:
    from referencing import Resource

    return Resource.from_contents(
        kv_utils.schema_contents(
            f"kubernetes-json-schema/{schema_dir}/_definitions.json", kubernetes_version
        )
    )


# -- reading ------------------------------------------------------------------------------------

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~8x faster


def _refuse_tag(loader: Any, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"the YAML type {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed: "
        "a Kubernetes object holds only mappings, lists, strings, numbers, booleans and null",
        node.start_mark,
    )


class _Loader(_BaseLoader):
    """A safe loader that keeps timestamps as text (as the API does), refuses binary, set and
    ordered-map types (no JSON form), and refuses duplicate keys (kubectl refuses them)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: set[str] = set()
        pairs = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                if key_node.tag != _STR:
                    # JSON keys are strings: `80:` is "80" and `true:` is "true" (and they must
                    # not collide as Python's 1 and True would).
                    text = _key(self.construct_object(key_node))
                    key_node = yaml.ScalarNode(_STR, text, key_node.start_mark, key_node.end_mark)
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key_node.value!r}",
                        key_node.start_mark,
                    )
                seen.add(key_node.value)
            pairs.append((key_node, value_node))
        node.value = pairs
        return super().construct_mapping(node, deep=deep)


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def _decode(text: str | bytes, max_bytes: int) -> str:
    if isinstance(text, bytes | bytearray):
        if len(text) > max_bytes:
            raise _too_big(max_bytes)
        try:
            return bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ManifestError(
                f"the text is not UTF-8 (byte {exc.start + 1} is not valid): submit YAML text, "
                "not a binary file",
                position=exc.start + 1,
            ) from None
    if not isinstance(text, str):
        raise ManifestError("the manifests must be YAML text")
    if len(text) > max_bytes:  # a character is at least one byte: no need to encode
        raise _too_big(max_bytes)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates from a bad decode upstream
        line, column = _line_column(text, exc.start)
        raise ManifestError(
            f"the text holds an invalid character at line {line}, column {column}",
            line=line,
            column=column,
        ) from None
    if size > max_bytes:
        raise _too_big(max_bytes)
    return text.removeprefix("\ufeff")


def _too_big(max_bytes: int) -> ManifestError:
    return ManifestError(
        f"the manifests are too large: at most {max_bytes:,} bytes are accepted",
        limit=max_bytes,
    )


def _prescan(text: str) -> None:
    """Walk the parser's events to bound depth, nodes and aliases before building anything."""
    scanner = _BaseLoader(text)
    depth = nodes = aliases = 0
    try:
        while scanner.check_event():
            event = scanner.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                aliases = 0
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                nodes += 1
                if depth > MAX_DEPTH:
                    raise _limit_error(event, f"nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise _limit_error(
                        event, f"more than {MAX_ALIASES} alias uses (*name) in one document"
                    )
            if nodes > MAX_NODES:
                raise _limit_error(event, f"more than {MAX_NODES:,} values")
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text) from None
    finally:
        scanner.dispose()


def _limit_error(event: yaml.Event, what: str) -> ManifestError:
    line, column = event.start_mark.line + 1, event.start_mark.column + 1
    return ManifestError(
        f"the manifests are refused: {what} (line {line}, column {column})",
        line=line,
        column=column,
    )


class _Budget:
    """Counts nodes with aliases expanded; shared sub-objects count every time they appear."""

    def __init__(self, limit: int):
        self.left = limit

    def spend(self, data: Any, line: int) -> None:
        stack = [data]
        while stack:
            value = stack.pop()
            self.left -= 1
            if self.left < 0:
                raise ManifestError(
                    "the manifests are refused: with their aliases expanded they hold more "
                    f"than {MAX_NODES:,} values (document at line {line})",
                    line=line,
                    column=1,
                )
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)


def _yaml_error(exc: yaml.YAMLError, text: str) -> ManifestError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    elif isinstance(exc, yaml.reader.ReaderError):
        line, column = _line_column(text, exc.position)
    else:
        line = column = None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, yaml.reader.ReaderError):
        problem = f"character #x{exc.character:04x} is not allowed in YAML (binary data?)"
    context = getattr(exc, "context", None)
    detail = f"{context}: {problem}" if context else str(problem)
    where = f" at line {line}, column {column}" if line is not None else ""
    extra = {"line": line, "column": column} if line is not None else {}
    return ManifestError(f"the YAML is not valid{where}: {detail}", **extra)


def _line_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column


def _plain(value: Any) -> Any:
    """An unshared copy with string keys, as JSON would have it (depth is already bounded)."""
    if isinstance(value, dict):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _unwrap(data: Any, where: str) -> Iterable[tuple[Any, str]]:
    """`kind: List` (or a typed `DeploymentList`) yields its items; anything else itself."""
    kind = data.get("kind") if isinstance(data, dict) else None
    items = data.get("items") if isinstance(data, dict) else None
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        item_kind = kind[: -len("List")]
        for i, item in enumerate(items, start=1):
            # The API leaves kind/apiVersion out of typed list items; kubectl fills them in.
            if isinstance(item, dict) and item_kind and "kind" not in item:
                item = {"apiVersion": data.get("apiVersion"), "kind": item_kind, **item}
            yield from _unwrap(item, f"{where}item {i}" if not where else f"{where}, item {i}")
    else:
        yield data, where


def _object_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return f"is a {_type_name(obj)}, not a Kubernetes object (a mapping with apiVersion, kind)"
    missing = [f for f in ("apiVersion", "kind") if not _text(obj.get(f))]
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not _text(metadata.get("name")):
        missing.append("metadata.name")
    if missing:
        label = f"{obj['kind']} " if _text(obj.get("kind")) else ""
        return f"{label}lacks {', '.join(missing)}"
    return None


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _denoise(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop what the server writes for itself and no check reads (managedFields can be most of
    a `kubectl get -o yaml` object)."""
    metadata = obj["metadata"]
    metadata.pop("managedFields", None)
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
    return obj


# -- schema warnings ----------------------------------------------------------------------------

_API_VERSION = re.compile(
    r"^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$"
)
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]{0,62}$")
_UNEXPECTED = re.compile(
    r"^Additional properties are not allowed \((.*) (?:was|were) unexpected\)$"
)


def _json_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _says(message: str) -> str:
    """The validator's message, in the words a learner uses, and short."""
    found = _UNEXPECTED.match(message)
    if found:
        fields = found.group(1)
        return f"unknown field{'s' if ',' in fields else ''} {fields}"
    # The strict schemas allow null for every optional field; "or null" only distracts.
    message = message.replace(", 'null'", "")
    return message if len(message) <= 200 else message[:199] + "…"


def _minor(version: str) -> str:
    return ".".join(version.lstrip("v").split(".")[:2])
