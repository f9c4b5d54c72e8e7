"""Submitted manifests: multi-document YAML a learner pastes or uploads, read safely.

`parse_manifests` turns the text into the plain objects a rubric grades (the same shapes the
Kubernetes API returns), and `schema_warnings` says where an object would be refused by the API
server. Pure: PyYAML (with libyaml when present) and the schemas `kubernetes_validate` ships.

The text is hostile until proven otherwise, so every cost is bounded before it is paid:
- size (`max_bytes`) is checked before any parsing;
- the text is parsed once, and the data is built from the parser's events as they come (no
  node tree, no second pass): each event is counted before anything is built from it, so
  nesting depth, the number of values and the alias uses of each document are bounded, and a
  5,000-level nesting or a "billion laughs" alias bomb is refused as soon as it crosses a limit;
- an alias is expanded into an unshared copy only after the size of what it names has been
  charged to the same value budget, so the data handed on (plain, unshared dicts and lists)
  never holds more than MAX_NODES values.
Every failure is a ManifestError (422 `invalid-manifests`); nothing else escapes.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
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
    objects: list[dict[str, Any]] = []
    problems: list[tuple[int, int, str]] = []  # (document, line, "item N: problem" or problem)
    documents = 0
    reader = _Reader(text)
    try:
        for index, line, data in reader.documents():
            if data is None:
                continue  # an empty document, such as a trailing `---`
            documents += 1
            if documents > max_documents:
                raise ManifestError(
                    f"too many documents: at most {max_documents} are accepted",
                    limit=max_documents,
                )
            for obj, item in _unwrap(data, ""):
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
    except (yaml.YAMLError, ManifestError) as exc:
        error = reader.first_error(exc)
        if isinstance(error, ManifestError):
            raise error from None
        raise _yaml_error(error, text) from None
    finally:
        reader.dispose()
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
    The verdict on each object is remembered (the SCHEMA_CACHE_SIZE most recent), so an
    object submitted again unchanged is not validated again.
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
            problem = _schema_problem(validator, obj, kubernetes_version)
            if problem is not None:
                warnings.append(f"{kind} {name}: {problem}")
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


SCHEMA_CACHE_SIZE = 4096
"""Objects whose schema verdict is remembered (least recently used dropped first)."""
SCHEMA_CACHE_MAX_TEXT = 1000
"""Longest verdict remembered, in characters; a longer one is worked out again each time."""


class _LruCache:
    """A bounded, thread-safe map that forgets its least recently used entries."""

    def __init__(self, size: int):
        self._size = size
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        """The value stored under `key` (now the most recently used), or `default`."""
        with self._lock:
            try:
                self._entries.move_to_end(key)
            except KeyError:
                return default
            return self._entries[key]

    def put(self, key: Any, value: Any) -> None:
        """Store `value` under `key`, forgetting the least recently used beyond the size."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


# Validating one object against its schema is most of a verification's cost (about half a
# millisecond per object), and learners resubmit mostly unchanged manifests: the verdict is
# remembered per object. The key is a digest of the object's repr (types and key order
# included: which error jsonschema meets first can follow key order), so only an identical
# object gets a remembered verdict; digests keep each entry small however large the object.
_SCHEMA_VERDICTS = _LruCache(SCHEMA_CACHE_SIZE)
_NO_VERDICT = object()


def _schema_problem(validator: Any, obj: Mapping[str, Any], kubernetes_version: str) -> str | None:
    """`path: problem` for the first schema error of `obj`, or None when it is valid."""
    # The object names its kind and API version, so with the Kubernetes version it names the
    # schema too.
    digest = hashlib.blake2b(repr(obj).encode("utf-8", "surrogatepass"), digest_size=16)
    key = (kubernetes_version, digest.digest())
    # repr names every value exactly for plain data only (another class may print its address).
    plain = type(obj) is dict
    problem = _SCHEMA_VERDICTS.get(key, _NO_VERDICT) if plain else _NO_VERDICT
    if problem is not _NO_VERDICT:
        return problem
    error = next(validator.iter_errors(dict(obj)), None)
    if error is None:
        problem = None
    else:
        where = _json_path(error.path)
        problem = f"{where + ': ' if where else ''}{_says(error.message)}"
    if plain and (problem is None or len(problem) <= SCHEMA_CACHE_MAX_TEXT):
        _SCHEMA_VERDICTS.put(key, problem)
    return problem


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
    """The parser and the constructors of tagged values `_Reader` uses: PyYAML's safe ones,
    except that timestamps stay text (as the API sends them) and binary, set and ordered-map
    types are refused (they have no JSON form)."""


_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_TEXT_TAGS = frozenset((_STR, _TIMESTAMP))
_Loader.add_constructor(_TIMESTAMP, yaml.SafeLoader.construct_yaml_str)
for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)

_ScalarEvent = yaml.ScalarEvent
_AliasEvent = yaml.AliasEvent
_MappingStartEvent = yaml.MappingStartEvent
_MappingEndEvent = yaml.MappingEndEvent
_SequenceEndEvent = yaml.SequenceEndEvent
_StreamEndEvent = yaml.StreamEndEvent
_DocumentStartEvent = yaml.DocumentStartEvent
_SequenceStartEvent = yaml.SequenceStartEvent
_ScalarNode = yaml.ScalarNode
_KINDS = {
    yaml.ScalarEvent: "scalar",
    yaml.SequenceStartEvent: "sequence",
    yaml.MappingStartEvent: "mapping",
}
# What reading can fail with before the whole text has been seen, but must report only when the
# rest of the text holds no syntax error or limit crossing (see `_Reader.first_error`).
_LATE_ERRORS = (yaml.composer.ComposerError, yaml.constructor.ConstructorError, ManifestError)
_BUILDING = object()  # an anchor's value while its collection is still being read
_RESOLVER = yaml.resolver.Resolver()  # the resolver of _Loader (CSafeLoader and SafeLoader)


def _plain_tag(value: str) -> str:
    """The tag YAML gives an unquoted scalar: `80` an int, `true` a bool, `nginx` a string.
    (A quoted scalar or one tagged `!` is a string.)"""
    if len(value) > 64:  # only short values are remembered, so the cache stays small
        return _RESOLVER.resolve(_ScalarNode, value, (True, False))
    return _short_plain_tag(value)


@functools.lru_cache(maxsize=4096)
def _short_plain_tag(value: str) -> str:
    # Resolving tries a regular expression per candidate type; most values repeat.
    return _RESOLVER.resolve(_ScalarNode, value, (True, False))


class _Anchor:
    """What `&name` names in the current document: a scalar (kept as its event and tag, built
    again at each use) or a collection with the values it holds, aliases expanded."""

    __slots__ = ("event", "kind", "kinds", "mark", "size", "tag", "value")

    def __init__(self, event: yaml.Event, kind: str, tag: str | None = None):
        self.event, self.kind, self.tag = event, kind, tag
        self.mark = event.start_mark
        self.value: Any = _BUILDING
        self.size = 1
        self.kinds: list[tuple[str, Any]] = []  # a sequence's items: (kind, mark), for merges


class _Reader:
    """Reads the text in one pass over libyaml's events, building plain data as they come.

    The result is what PyYAML's safe loader gives (the same tag resolution and scalar
    constructors, merge keys, anchors scoped to their document), made JSON-like as the API
    reads it: keys are text (`80:` is "80", `true:` is "true"), duplicate keys are refused (as
    kubectl does), and aliases are expanded into unshared copies. Every event is counted before
    anything is built from it: nesting depth (MAX_DEPTH), values written (MAX_NODES, keys
    included), alias uses per document (MAX_ALIASES), and values held with aliases expanded
    (MAX_NODES, charged before an alias is copied, over the whole text).
    """

    def __init__(self, text: str):
        self._loader = _Loader(text)
        self._next = self._loader.get_event
        self._nodes = 0  # values written so far, keys included
        self._left = MAX_NODES  # values the data may still hold, aliases expanded, keys not
        self._depth = 0
        self._aliases = 0
        self._anchors: dict[str, _Anchor] = {}
        self._line = 0  # where the current document starts, for the budget's error
        self._limit: ManifestError | None = None  # the limit crossed, if one was

    def dispose(self) -> None:
        """Release the parser."""
        self._loader.dispose()

    def first_error(self, error: Exception) -> Exception:
        """The error to report, given the first one met while reading.

        As if the whole text were checked before any of it was built: a syntax error or a
        limit crossed anywhere in the text comes first (a learner's indentation slip often
        shows first as a duplicate key, and the syntax error says what is wrong), then an
        undefined or repeated anchor in the same document, then `error` itself.
        """
        if error is self._limit or not isinstance(error, _LATE_ERRORS):
            return error
        composing = not isinstance(error, yaml.composer.ComposerError)
        found: Exception | None = None
        more = True
        try:
            while more:
                try:
                    more = self._rest(composing)
                except yaml.composer.ComposerError as exc:
                    found = exc
                composing = False
        except (yaml.YAMLError, ManifestError) as exc:
            return exc
        return found or error

    def _rest(self, composing: bool) -> bool:
        """Scan to the end of the current document (True: another one follows) or of the text
        (False), counting every event against the limits as reading does; with `composing`,
        check the document's anchors and aliases as well."""
        next_event = self._next
        while True:
            event = next_event()
            cls = event.__class__
            if cls is _ScalarEvent:
                self._nodes += 1
                if self._nodes > MAX_NODES:
                    raise self._refuse(event, f"more than {MAX_NODES:,} values")
            elif cls is _AliasEvent:
                self._count_alias(event)
                if composing:
                    self._use(event)
                continue
            elif cls is _MappingStartEvent or cls is _SequenceStartEvent:
                self._enter(event)
            elif cls is _MappingEndEvent or cls is _SequenceEndEvent:
                self._depth -= 1
                continue
            elif cls is _DocumentStartEvent:
                self._aliases = 0
                return True
            elif cls is _StreamEndEvent:
                return False
            else:
                continue  # the end of a document
            if composing and event.anchor is not None:
                self._name(_Anchor(event, _KINDS[cls]))

    def documents(self) -> Iterator[tuple[int, int, Any]]:
        """(number, line, data) of every document in turn; an empty document's data is None."""
        next_event = self._next
        next_event()  # StreamStartEvent
        index = 0
        while next_event().__class__ is not _StreamEndEvent:  # a DocumentStartEvent
            self._anchors = {}
            self._aliases = 0
            index += 1
            root = next_event()
            self._line = root.start_mark.line + 1
            data = self._value(root)
            if data is None:
                self._left += 1  # an empty document holds no value: it is skipped
            next_event()  # DocumentEndEvent
            yield index, self._line, data

    # values

    def _value(self, event: yaml.Event) -> Any:
        cls = event.__class__
        if cls is _ScalarEvent:
            tag = self._scalar_tag(event)
            self._spend(1)
            return event.value if tag in _TEXT_TAGS else self._scalar(event, tag)
        if cls is _AliasEvent:
            self._count_alias(event)
            return self._expand(self._use(event))
        if cls is _MappingStartEvent:
            return self._mapping(event)
        return self._sequence(event)

    def _scalar_tag(self, event: yaml.Event) -> str:
        """A scalar's resolved tag, once it is counted against MAX_NODES and its anchor (if
        any) is named: the same for a value and for a mapping key."""
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise self._refuse(event, f"more than {MAX_NODES:,} values")
        tag = event.tag
        if tag is None or tag == "!":
            tag = _plain_tag(event.value) if event.implicit[0] else _STR
        if event.anchor is not None:
            self._name(_Anchor(event, "scalar", tag))
        return tag

    def _scalar(self, event: yaml.Event, tag: str) -> Any:
        """A scalar of any other tag, built by the loader's own constructor (or refused)."""
        node = _ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self._loader.construct_object(node, deep=True)
        except (ArithmeticError, LookupError, TypeError, ValueError):  # `!!int x`, `!!bool no`
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{event.value!r} is not a {tag.replace('tag:yaml.org,2002:', '!!')} value",
                event.start_mark,
            ) from None

    def _mapping(self, start: yaml.Event) -> dict[str, Any]:
        before = self._left
        anchor = self._open(start, _MAP, yaml.MappingNode)
        data: dict[str, Any] = {}
        merged: list[tuple[str, Any]] = []
        next_event = self._next
        while True:
            event = next_event()
            cls = event.__class__
            if cls is _MappingEndEvent:
                break
            if cls is _ScalarEvent:
                tag = self._scalar_tag(event)
                key_event, mark = event, event.start_mark
            elif cls is _AliasEvent:
                self._count_alias(event)
                named = self._use(event)
                if named.kind != "scalar":
                    raise _unhashable(start, named.mark)
                key_event, tag, mark = named.event, named.tag, named.mark
            else:  # a list or a mapping as a key: JSON has no such thing
                self._enter(event)
                raise _unhashable(start, event.start_mark)
            if tag == _MERGE:
                merged.extend(self._merge(next_event(), start))
                continue
            # JSON keys are text: `80:` is "80" and `true:` is "true" (and they must not
            # collide as Python's 1 and True would).
            key = key_event.value if tag in _TEXT_TAGS else _key(self._scalar(key_event, tag))
            if key in data:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    start.start_mark,
                    f"found duplicate key {key!r}",
                    mark,
                )
            data[key] = self._value(next_event())
        self._depth -= 1
        if merged:
            # Merged keys come first, in the order merged; the first value merged for a key
            # wins, and the mapping's own keys win over every merged one (YAML's merge rules).
            first: dict[str, Any] = {}
            for key, value in merged:
                first.setdefault(key, value)
            data = {**first, **data}
        self._close(anchor, data, before)
        return data

    def _sequence(self, start: yaml.Event, merging: yaml.Event | None = None) -> list[Any]:
        """A list; with `merging` (the mapping whose `<<` it is), a list of mappings only."""
        before = self._left
        anchor = self._open(start, _SEQ, yaml.SequenceNode)
        items: list[Any] = []
        slow = anchor is not None or merging is not None
        next_event = self._next
        while True:
            event = next_event()
            cls = event.__class__
            if cls is _SequenceEndEvent:
                break
            if not slow:
                items.append(self._value(event))
                continue
            # An anchored list remembers what each item is, for a merge that uses it later.
            named = None
            if cls is _AliasEvent:
                self._count_alias(event)
                named = self._use(event)
            kind, mark = (named.kind, named.mark) if named else (_KINDS[cls], event.start_mark)
            if merging is not None and kind != "mapping":
                raise _not_mergeable(merging, kind, mark)
            if anchor is not None:
                anchor.kinds.append((kind, mark))
            items.append(self._expand(named) if named else self._value(event))
        self._depth -= 1
        self._close(anchor, items, before)
        return items

    def _merge(self, event: yaml.Event, owner: yaml.Event) -> list[tuple[str, Any]]:
        """The pairs `<<: value` merges into `owner`: a mapping's, or those of each mapping of
        a list in turn."""
        cls = event.__class__
        if cls is _MappingStartEvent:
            return list(self._mapping(event).items())
        if cls is _SequenceStartEvent:
            sources = self._sequence(event, merging=owner)
        elif cls is _AliasEvent:
            self._count_alias(event)
            named = self._use(event)
            if named.kind == "mapping":
                return list(self._expand(named).items())
            if named.kind != "sequence":
                raise _not_mergeable(owner, named.kind, named.mark, listed=False)
            for kind, mark in named.kinds:
                if kind != "mapping":
                    raise _not_mergeable(owner, kind, mark)
            sources = self._expand(named)
        else:
            raise _not_mergeable(owner, "scalar", event.start_mark, listed=False)
        return [pair for source in sources for pair in source.items()]

    # limits and anchors

    def _enter(self, event: yaml.Event) -> None:
        """Count a mapping or list that starts, refusing it when too deep or one too many."""
        self._depth += 1
        self._nodes += 1
        if self._depth > MAX_DEPTH:
            raise self._refuse(event, f"nesting deeper than {MAX_DEPTH} levels")
        if self._nodes > MAX_NODES:
            raise self._refuse(event, f"more than {MAX_NODES:,} values")

    def _open(self, event: yaml.Event, default_tag: str, node_type: type) -> _Anchor | None:
        self._enter(event)
        anchor = None
        if event.anchor is not None:
            anchor = self._name(_Anchor(event, _KINDS[event.__class__]))
        tag = event.tag
        if tag is not None and tag != "!" and tag != default_tag:
            # Every other tag refuses a mapping or list (`!!set`, `!!str`, `!Ref`...): let the
            # loader's constructor say so in its own words, on an empty node of the same kind.
            node = node_type(tag, [], event.start_mark, event.end_mark)
            self._loader.construct_object(node, deep=True)
            _refuse_tag(self._loader, node)
        self._spend(1)
        return anchor

    def _close(self, anchor: _Anchor | None, value: Any, before: int) -> None:
        if anchor is not None:
            anchor.value = value
            anchor.size = before - self._left

    def _name(self, anchor: _Anchor) -> _Anchor:
        name = anchor.event.anchor
        first = self._anchors.get(name)
        if first is not None:
            raise yaml.composer.ComposerError(
                "found duplicate anchor; first occurrence",
                first.mark,
                "second occurrence",
                anchor.mark,
            )
        self._anchors[name] = anchor
        return anchor

    def _count_alias(self, event: yaml.Event) -> None:
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise self._refuse(event, f"more than {MAX_ALIASES} alias uses (*name) in one document")

    def _use(self, event: yaml.Event) -> _Anchor:
        """The anchor an alias names (the use itself is counted by the caller)."""
        anchor = self._anchors.get(event.anchor)
        if anchor is None:
            raise yaml.composer.ComposerError(None, None, "found undefined alias", event.start_mark)
        return anchor

    def _expand(self, anchor: _Anchor) -> Any:
        """An unshared copy of what the anchor names, its size charged first."""
        if anchor.kind == "scalar":
            self._spend(1)
            tag, event = anchor.tag, anchor.event
            return event.value if tag in _TEXT_TAGS else self._scalar(event, tag)
        if anchor.value is _BUILDING:
            self._spend(MAX_NODES + 1)  # an alias inside its own anchor (`&r [*r]`): no end
        self._spend(anchor.size)
        return _copy(anchor.value)

    def _refuse(self, event: yaml.Event, what: str) -> ManifestError:
        self._limit = _limit_error(event, what)
        return self._limit

    def _spend(self, values: int) -> None:
        self._left -= values
        if self._left < 0:
            raise ManifestError(
                "the manifests are refused: with their aliases expanded they hold more "
                f"than {MAX_NODES:,} values (document at line {self._line})",
                line=self._line,
                column=1,
            )


def _copy(value: Any) -> Any:
    """An unshared copy of plain data (depth is already bounded)."""
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value


def _unhashable(mapping: yaml.Event, mark: Any) -> yaml.YAMLError:
    return yaml.constructor.ConstructorError(
        "while constructing a mapping", mapping.start_mark, "found unhashable key", mark
    )


def _not_mergeable(mapping: yaml.Event, kind: str, mark: Any, listed: bool = True) -> Exception:
    expected = "a mapping" if listed else "a mapping or list of mappings"
    return yaml.constructor.ConstructorError(
        "while constructing a mapping",
        mapping.start_mark,
        f"expected {expected} for merging, but found {kind}",
        mark,
    )


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


def _limit_error(event: yaml.Event, what: str) -> ManifestError:
    line, column = event.start_mark.line + 1, event.start_mark.column + 1
    return ManifestError(
        f"the manifests are refused: {what} (line {line}, column {column})",
        line=line,
        column=column,
    )


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
