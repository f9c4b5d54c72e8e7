"""Parse kubectl (and simple helm) command lines and compare a learner's command with accepted ones.

A command is tokenised like a POSIX shell would (`shlex`), split into the commands of a pipeline
(`|`, `&&`, `;`), and each command is reduced to a canonical form:

- the program (`k` is `kubectl`), the verb path (`create secret generic`, `rollout undo`, `top pod`,
  `helm repo add`), with subcommand aliases resolved (`create deploy` is `create deployment`);
- the resources it acts on, as `(type, name)` pairs, with every spelling of a type resolved
  (`po`, `pod`, `pods`, `Pod`, `pods.v1`; `deploy`, `deployments.apps`) and `TYPE/NAME` equal to
  `TYPE NAME`;
- the remaining positional arguments (labels to set, a container's new image, a context name...);
- the flags, keyed by their long name (`-n` is `--namespace`), with `--flag=value` equal to
  `--flag value`, combined short flags split (`-it`), `-oyaml` equal to `-o yaml`, boolean flags and
  their explicit values (`--overwrite=true`), defaults dropped (`--type=ClusterIP` on `expose`),
  repeated flags as multisets, comma lists as sets, selectors, durations, JSON patches and jsonpath
  templates normalised;
- the container command after `--`, compared as an argument list; output redirects.

Values keep their case. `compare` picks the accepted command closest to the learner's and says which
part differs. Pure functions: no subprocess, no cluster, no file is read.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shlex
import types
from collections import Counter
from collections.abc import Mapping, Sequence

from .errors import ValidationFailed

MAX_COMMAND_LENGTH = 2000  # characters; a real exam command is far shorter
PROGRAM_ALIASES = {"kubectl": "kubectl", "k": "kubectl", "helm": "helm"}
_JOINERS = frozenset({"|", "||", "&&", ";", "&"})
_STRONG_JOINERS = frozenset({"|", "||", "&&"})
_REDIRECTS = frozenset({">", ">>", "<", "<<", "<<<", ">|", "&>", "&>>", ">&"})
_PUNCTUATION = "|&;<>\n"

# Flag kinds: a value flag reads the next token when no `=value` is attached; a boolean flag never
# does; an optional-value flag (pflag's NoOptDefVal) takes a value only as `--flag=value`.
VALUE, BOOL, OPTIONAL = "value", "bool", "optional"

# Score of a comparison, to pick the closest accepted command for feedback.
_PROGRAM_MISMATCH = 1000
_VERB_MISMATCH = 100
_SHAPE_MISMATCH = 50


# --------------------------------------------------------------------------------------------
# Resource types
# --------------------------------------------------------------------------------------------

# plural, singular (the kind in lower case), group ("-" is the core group), short names...
_RESOURCE_TABLE = """
all all -
bindings binding -
componentstatuses componentstatus - cs
configmaps configmap - cm
endpoints endpoints - ep
events event -,events.k8s.io ev
limitranges limitrange - limits
namespaces namespace - ns
nodes node - no
persistentvolumeclaims persistentvolumeclaim - pvc
persistentvolumes persistentvolume - pv
pods pod - po
podtemplates podtemplate -
replicationcontrollers replicationcontroller - rc
resourcequotas resourcequota - quota
secrets secret -
serviceaccounts serviceaccount - sa
services service - svc
mutatingwebhookconfigurations mutatingwebhookconfiguration admissionregistration.k8s.io
validatingwebhookconfigurations validatingwebhookconfiguration admissionregistration.k8s.io
validatingadmissionpolicies validatingadmissionpolicy admissionregistration.k8s.io
validatingadmissionpolicybindings validatingadmissionpolicybinding admissionregistration.k8s.io
customresourcedefinitions customresourcedefinition apiextensions.k8s.io crd crds
apiservices apiservice apiregistration.k8s.io
controllerrevisions controllerrevision apps
daemonsets daemonset apps ds
deployments deployment apps deploy
replicasets replicaset apps rs
statefulsets statefulset apps sts
selfsubjectreviews selfsubjectreview authentication.k8s.io
tokenreviews tokenreview authentication.k8s.io
localsubjectaccessreviews localsubjectaccessreview authorization.k8s.io
selfsubjectaccessreviews selfsubjectaccessreview authorization.k8s.io
selfsubjectrulesreviews selfsubjectrulesreview authorization.k8s.io
subjectaccessreviews subjectaccessreview authorization.k8s.io
horizontalpodautoscalers horizontalpodautoscaler autoscaling hpa
cronjobs cronjob batch cj
jobs job batch
certificatesigningrequests certificatesigningrequest certificates.k8s.io csr
leases lease coordination.k8s.io
endpointslices endpointslice discovery.k8s.io
flowschemas flowschema flowcontrol.apiserver.k8s.io
prioritylevelconfigurations prioritylevelconfiguration flowcontrol.apiserver.k8s.io
ingressclasses ingressclass networking.k8s.io
ingresses ingress networking.k8s.io ing
networkpolicies networkpolicy networking.k8s.io netpol
ipaddresses ipaddress networking.k8s.io
servicecidrs servicecidr networking.k8s.io
runtimeclasses runtimeclass node.k8s.io
poddisruptionbudgets poddisruptionbudget policy pdb
clusterrolebindings clusterrolebinding rbac.authorization.k8s.io
clusterroles clusterrole rbac.authorization.k8s.io
rolebindings rolebinding rbac.authorization.k8s.io
roles role rbac.authorization.k8s.io
priorityclasses priorityclass scheduling.k8s.io pc
csidrivers csidriver storage.k8s.io
csinodes csinode storage.k8s.io
csistoragecapacities csistoragecapacity storage.k8s.io
storageclasses storageclass storage.k8s.io sc
volumeattachments volumeattachment storage.k8s.io
volumeattributesclasses volumeattributesclass storage.k8s.io vac
deviceclasses deviceclass resource.k8s.io
resourceclaims resourceclaim resource.k8s.io
resourceclaimtemplates resourceclaimtemplate resource.k8s.io
resourceslices resourceslice resource.k8s.io
gatewayclasses gatewayclass gateway.networking.k8s.io gc
gateways gateway gateway.networking.k8s.io gtw
httproutes httproute gateway.networking.k8s.io
grpcroutes grpcroute gateway.networking.k8s.io
referencegrants referencegrant gateway.networking.k8s.io refgrant
"""


def _load_resources() -> tuple[dict[str, str], dict[str, str], dict[str, frozenset[str]]]:
    aliases: dict[str, str] = {}
    singular: dict[str, str] = {}
    groups: dict[str, frozenset[str]] = {}
    for line in _RESOURCE_TABLE.strip().splitlines():
        plural, single, group, *shorts = line.split()
        for alias in (plural, single, *shorts):
            aliases[alias] = plural
        singular[plural] = single
        groups[plural] = frozenset("" if g == "-" else g for g in group.split(","))
    return aliases, singular, groups


RESOURCE_ALIASES, _SINGULAR, _GROUPS = _load_resources()
_VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d+)?")


def _singularize(word: str) -> str:
    """A best guess for an unknown (custom) resource: `backups` and `backup` are one type."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def resolve_type(token: str) -> tuple[str, str | None]:
    """The canonical type of a resource type token and, for an unknown type, its API group.

    Known types come back as their plural (`deploy`, `Deployment`, `deployments.apps`,
    `deployments.v1.apps` -> `deployments`) with no group. An unknown type (a custom resource)
    comes back singularised, with the group it was written with, if any.
    """
    word = token.strip().lower()
    if word in RESOURCE_ALIASES:
        return RESOURCE_ALIASES[word], None
    base, dot, rest = word.partition(".")
    if dot:
        version, vdot, group = rest.partition(".")
        if _VERSION.fullmatch(version):
            rest = group if vdot else ""
        known = RESOURCE_ALIASES.get(base)
        if known is not None and rest in _GROUPS[known]:
            return known, None
        return _singularize(base), rest or None
    return _singularize(word), None


@dataclasses.dataclass(frozen=True, order=True)
class ResourceRef:
    """One resource a command acts on: a canonical type, an optional group, an optional name."""

    type: str
    group: str | None = None
    name: str | None = None

    def same_as(self, other: ResourceRef) -> bool:
        """Equal types and names; an unknown type written without its group matches any group."""
        return (
            self.type == other.type
            and self.name == other.name
            and (self.group == other.group or self.group is None or other.group is None)
        )

    @property
    def type_text(self) -> str:
        return f"{self.type}.{self.group}" if self.group else self.type

    def __str__(self) -> str:
        return f"{self.type_text}/{self.name}" if self.name is not None else self.type_text


def _ref(token: str, default_type: str | None = None) -> ResourceRef:
    """`TYPE/NAME` (or a bare name of `default_type`) as a ResourceRef."""
    if "/" in token:
        type_token, _, name = token.partition("/")
        canonical, group = resolve_type(type_token)
        return ResourceRef(canonical, group, name)
    return ResourceRef(default_type or "", None, token)


def _norm_resource_token(token: str) -> str:
    """A resource in a flag value (`--resource=deploy`, `pods/log`): canonical type, subresource
    kept."""
    type_token, slash, sub = token.strip().partition("/")
    if type_token in ("*", ""):
        return token.strip()
    canonical, group = resolve_type(type_token)
    text = f"{canonical}.{group}" if group else canonical
    return f"{text}/{sub}" if slash else text


# --------------------------------------------------------------------------------------------
# Verbs and their subcommands
# --------------------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _aliases(spec: str) -> dict[str, str]:
    """`"deployment=deploy namespace=ns job"` -> {alias: canonical}, canonical names included."""
    table: dict[str, str] = {}
    for item in spec.split():
        canonical, *others = item.split("=")
        table[canonical] = canonical
        for alias in others:
            for name in alias.split(","):
                table[name] = canonical
    return table


KUBECTL_SUBCOMMANDS: dict[tuple[str, ...], dict[str, str]] = {
    ("create",): _aliases(
        "deployment=deploy namespace=ns serviceaccount=sa configmap=cm secret service=svc "
        "cronjob=cj job role clusterrole rolebinding clusterrolebinding quota=resourcequota "
        "ingress=ing poddisruptionbudget=pdb priorityclass=pc token"
    ),
    ("create", "secret"): _aliases("generic tls docker-registry"),
    ("create", "service"): _aliases("clusterip nodeport loadbalancer externalname"),
    ("rollout",): _aliases("history pause restart resume status undo"),
    ("set",): _aliases("env image resources selector serviceaccount=sa subject"),
    ("config",): _aliases(
        "current-context delete-cluster delete-context delete-user get-clusters get-contexts "
        "get-users rename-context set set-cluster set-context set-credentials unset "
        "use-context=use view"
    ),
    ("auth",): _aliases("can-i reconcile whoami"),
    ("top",): _aliases("node=nodes,no pod=pods,po"),
    ("certificate",): _aliases("approve deny"),
    ("apply",): _aliases("edit-last-applied set-last-applied view-last-applied"),
    ("plugin",): _aliases("list"),
}
HELM_VERBS = _aliases(
    "install upgrade rollback uninstall=un,delete,del list=ls history=hist status get show=inspect "
    "repo search template pull=fetch push create lint package dependency=dep,dependencies test "
    "version env plugin registry verify completion"
)
HELM_SUBCOMMANDS: dict[tuple[str, ...], dict[str, str]] = {
    ("repo",): _aliases("add update=up list=ls remove=rm index"),
    ("get",): _aliases("all hooks manifest metadata notes values"),
    ("show",): _aliases("all chart crds readme values"),
    ("search",): _aliases("hub repo"),
    ("dependency",): _aliases("build list=ls update=up"),
    ("plugin",): _aliases("install list=ls uninstall=rm,remove update=up"),
    ("registry",): _aliases("login logout"),
}

# How the positional arguments of a verb are read (see `_positionals`).
_RESOURCE_VERBS = frozenset(
    {
        "get",
        "describe",
        "delete",
        "edit",
        "patch",
        "scale",
        "expose",
        "autoscale",
        "wait",
        "rollout",
    }
)
_PAIR_KINDS = {
    ("label",): "label",
    ("annotate",): "annotation",
    ("set", "env"): "variable",
    ("set", "image"): "image of container",
    ("taint",): "taint",
}
_LAST_ARG = {("set", "selector"): "selector", ("set", "serviceaccount"): "service account"}
_POD_VERBS = frozenset({"logs", "exec", "attach", "debug", "port-forward"})
_NODE_VERBS = frozenset({"cordon", "uncordon", "drain"})
_ARG_LABELS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("kubectl", "run"): ("name",),
    ("kubectl", "create"): ("name",),
    ("kubectl", "config", "use-context"): ("context",),
    ("kubectl", "config", "set-context"): ("context",),
    ("kubectl", "config", "delete-context"): ("context",),
    ("kubectl", "kustomize"): ("directory",),
    ("kubectl", "explain"): ("field",),
    ("kubectl", "auth", "can-i"): ("API verb", "resource"),
    ("kubectl", "top", "pod"): ("pod",),
    ("kubectl", "top", "node"): ("node",),
    ("kubectl", "cp"): ("source", "destination"),
    ("kubectl", "port-forward"): ("port mapping",),
    ("helm", "install"): ("release", "chart"),
    ("helm", "upgrade"): ("release", "chart"),
    ("helm", "template"): ("release", "chart"),
    ("helm", "rollback"): ("release", "revision"),
    ("helm", "uninstall"): ("release",),
    ("helm", "status"): ("release",),
    ("helm", "history"): ("release",),
    ("helm", "test"): ("release",),
    ("helm", "get"): ("release",),
    ("helm", "show"): ("chart",),
    ("helm", "pull"): ("chart",),
    ("helm", "repo", "add"): ("repository name", "repository URL"),
    ("helm", "create"): ("chart name",),
}


# --------------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------------

_KUBECTL_SHORTS = {
    "n": "namespace",
    "o": "output",
    "l": "selector",
    "f": "filename",
    "k": "kustomize",
    "c": "container",
    "i": "stdin",
    "t": "tty",
    "A": "all-namespaces",
    "w": "watch",
    "R": "recursive",
    "L": "label-columns",
    "q": "quiet",
    "s": "server",
    "h": "help",
    "v": "v",
}
_KUBECTL_VERB_SHORTS: dict[tuple[str, ...], dict[str, str]] = {
    ("logs",): {"p": "previous", "f": "follow"},
    ("patch",): {"p": "patch"},
    ("run",): {"l": "labels"},
    ("expose",): {"l": "labels"},
    ("delete",): {"i": "interactive"},
    ("create", "deployment"): {"r": "replicas"},
    ("set", "resources"): {"c": "containers"},
    ("set", "env"): {"c": "containers", "e": "env"},
}
_KUBECTL_VALUE_FLAGS = _words(
    """
    namespace context cluster user kubeconfig server token as as-group as-uid request-timeout v
    vmodule certificate-authority client-certificate client-key tls-server-name cache-dir profile
    profile-output password username log-flush-frequency
    output selector filename kustomize field-selector sort-by label-columns template chunk-size
    raw subresource field-manager
    image replicas port env labels annotations restart image-pull-policy overrides override-type
    pod-running-timeout serviceaccount target-port name type protocol external-ip
    load-balancer-ip session-affinity cluster-ip tcp node-port external-name from-literal
    from-file from-env-file cert key docker-server docker-username docker-password docker-email
    schedule from verb resource resource-name aggregation-rule non-resource-url role clusterrole
    group hard scopes class rule default-backend annotation min-available max-unavailable value
    description preemption-policy duration audience bound-object-kind bound-object-name
    bound-object-uid grace-period timeout resource-version patch patch-file current-replicas min
    max cpu-percent cpu memory to-revision revision containers limits requests keys prefix
    container follow-since since since-time tail limit-bytes max-log-requests target copy-to
    set-image address api-version api-group verbs categories for types output-version
    concurrency pod-selector load-restrictor helm-command retries
    """
)
_KUBECTL_OPTIONAL_FLAGS = frozenset({"dry-run", "validate", "cascade"})
_KUBECTL_VERB_KINDS: dict[tuple[str, ...], dict[str, str]] = {
    ("top",): {"containers": BOOL},
    ("config", "view"): {"raw": BOOL},
    ("logs",): {"prefix": BOOL},
    ("create",): {"raw": VALUE},
}

_HELM_SHORTS = {
    "n": "namespace",
    "f": "values",
    "o": "output",
    "A": "all-namespaces",
    "a": "all",
    "g": "generate-name",
    "q": "short",
    "r": "reverse",
    "m": "max",
    "l": "selector",
    "h": "help",
}
_HELM_VERB_SHORTS: dict[tuple[str, ...], dict[str, str]] = {
    ("upgrade",): {"i": "install"},
    ("list",): {"d": "date"},
    ("pull",): {"d": "destination"},
    ("template",): {"s": "show-only"},
}
_HELM_VALUE_FLAGS = _words(
    """
    namespace values set set-string set-file set-json set-literal version output timeout
    description kube-context kubeconfig kube-apiserver kube-token kube-as-user kube-as-group
    repo username password max selector show-only post-renderer post-renderer-args name-template
    api-versions kube-version history-max revision destination untardir ca-file cert-file key-file
    registry-config repository-config repository-cache filter labels burst-limit qps output-dir
    keyring offset time-format
    """
)
_HELM_OPTIONAL_FLAGS = frozenset({"dry-run"})

# Flags whose value or presence does not change what the command does.
_IGNORED_FLAGS = {"kubectl": frozenset({"v", "request-timeout"}), "helm": frozenset({"debug"})}

# Defaults: a flag given with its default value is the same as the flag left out.
_DEFAULTS: dict[tuple[str, ...], dict[str, str]] = {
    ("kubectl", "expose"): {"type": "ClusterIP"},
    ("kubectl", "run"): {"restart": "Always"},
    ("kubectl", "patch"): {"type": "strategic"},
    ("kubectl", "create", "deployment"): {"replicas": "1"},
    ("kubectl", "logs"): {"tail": "-1"},
    ("kubectl", "delete"): {"grace-period": "-1", "wait": "true"},
    ("kubectl", "set", "resources"): {"containers": "*"},
    ("kubectl", "set", "env"): {"containers": "*", "overwrite": "true"},
    ("kubectl", "api-resources"): {"namespaced": "true"},
    ("kubectl", "apply"): {"overwrite": "true"},
    ("kubectl", "rollout", "status"): {"watch": "true"},
    ("kubectl", "debug"): {"share-processes": "true"},
    ("kubectl", "explain"): {"output": "plaintext"},
}

_SET_LIST_FLAGS = frozenset(
    {"verb", "resource-name", "scopes", "types", "verbs", "non-resource-url", "address"}
)
_MAP_FLAGS = frozenset({"hard", "requests", "limits"})
_SELECTOR_FLAGS = frozenset({"selector", "field-selector"})
_DURATION_FLAGS = frozenset(
    {"duration", "since", "timeout", "request-timeout", "pod-running-timeout", "follow-since"}
)
_PATH_FLAGS = frozenset(
    {"filename", "kustomize", "values", "from-env-file", "cert", "key", "patch-file"}
)
_INT_FLAGS = frozenset(
    {
        "replicas",
        "tail",
        "revision",
        "to-revision",
        "grace-period",
        "min",
        "max",
        "cpu-percent",
        "node-port",
        "current-replicas",
        "limit-bytes",
        "history-max",
    }
)
_HELM_SPLIT_FLAGS = frozenset({"set", "set-string", "set-json", "set-file", "set-literal"})
_JSON_FLAGS = frozenset({"patch", "overrides"})


@dataclasses.dataclass(frozen=True)
class _FlagTable:
    shorts: Mapping[str, str]
    kinds: Mapping[str, str]

    def kind(self, name: str) -> str:
        return self.kinds.get(name, BOOL)

    def long_name(self, short: str) -> str:
        return self.shorts.get(short, "-" + short)


@functools.lru_cache(maxsize=256)
def _flag_table(program: str, verb: tuple[str, ...]) -> _FlagTable:
    if program == "helm":
        shorts, verb_shorts = dict(_HELM_SHORTS), _HELM_VERB_SHORTS
        kinds = dict.fromkeys(_HELM_VALUE_FLAGS, VALUE) | dict.fromkeys(
            _HELM_OPTIONAL_FLAGS, OPTIONAL
        )
        verb_kinds: dict[tuple[str, ...], dict[str, str]] = {}
    else:
        shorts, verb_shorts = dict(_KUBECTL_SHORTS), _KUBECTL_VERB_SHORTS
        kinds = dict.fromkeys(_KUBECTL_VALUE_FLAGS, VALUE) | dict.fromkeys(
            _KUBECTL_OPTIONAL_FLAGS, OPTIONAL
        )
        verb_kinds = _KUBECTL_VERB_KINDS
    for size in range(1, len(verb) + 1):
        shorts.update(verb_shorts.get(verb[:size], {}))
        kinds.update(verb_kinds.get(verb[:size], {}))
    return _FlagTable(types.MappingProxyType(shorts), types.MappingProxyType(kinds))


# --------------------------------------------------------------------------------------------
# The parsed command
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CommandPart:
    """One command of a command line, in canonical form (see the module docstring)."""

    program: str
    verb: tuple[str, ...] = ()
    resources: tuple[ResourceRef, ...] = ()
    args: tuple[str, ...] = ()
    flags: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=lambda: types.MappingProxyType({})
    )
    command: tuple[str, ...] | None = None
    redirects: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    schema: str = "literal"

    def text(self) -> str:
        """A canonical rendering, for logs and for showing what was understood."""
        words = [self.program, *self.verb, *(str(r) for r in self.resources), *self.args]
        for name in sorted(self.flags):
            for value in self.flags[name]:
                words.append(_flag_text(name, value))
        if self.command is not None:
            words += ["--", *self.command]
        text = shlex.join(words)
        for op, target in self.redirects:
            text += f" {op} {shlex.quote(target)}"
        return text


@dataclasses.dataclass(frozen=True)
class ParsedCommand:
    """A whole command line: its commands and the operators joining them (`|`, `&&`, `;`)."""

    text: str
    parts: tuple[CommandPart, ...]
    joiners: tuple[str, ...] = ()

    @property
    def program(self) -> str:
        return self.parts[0].program

    @property
    def verb(self) -> tuple[str, ...]:
        return self.parts[0].verb

    @property
    def resources(self) -> tuple[ResourceRef, ...]:
        return self.parts[0].resources

    @property
    def args(self) -> tuple[str, ...]:
        return self.parts[0].args

    @property
    def flags(self) -> Mapping[str, tuple[str, ...]]:
        return self.parts[0].flags

    @property
    def command(self) -> tuple[str, ...] | None:
        return self.parts[0].command

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(note for part in self.parts for note in part.notes)


@dataclasses.dataclass(frozen=True)
class KubectlVerdict:
    """The result of `compare`: `matched` is the accepted command that matched (None if wrong);
    `closest` is the accepted command the feedback was computed against."""

    correct: bool
    matched: str | None
    feedback: list[str]
    closest: str | None = None


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"answer": [message]})


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_CURRENT_CONTEXT = re.compile(r"\$\(\s*(?:kubectl|k)\s+config\s+current-context\s*\)")


def _tokenize(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=_PUNCTUATION)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:
        if "quotation" in str(exc):
            raise _invalid("the command does not parse: a quotation mark is not closed") from None
        raise _invalid("the command does not parse: it ends with a lone backslash") from None


def parse(command: str) -> ParsedCommand:
    """Parse a command line (kubectl, `k`, helm, or a pipeline of them) into canonical form.

    Raises `ValidationFailed` (errors={"answer": [...]}) when the text is not a string, is empty,
    is longer than MAX_COMMAND_LENGTH, or does not tokenise (an unclosed quote).
    """
    if not isinstance(command, str):
        raise _invalid("the command must be text")
    if len(command) > MAX_COMMAND_LENGTH:
        raise _invalid(f"the command is too long (more than {MAX_COMMAND_LENGTH} characters)")
    text = command.strip().replace("\r\n", "\n").replace("\\\n", " ")
    if not text:
        raise _invalid("the command is empty")
    # `kubectl config set-context $(kubectl config current-context) ...` is `--current`.
    text = _CURRENT_CONTEXT.sub("--current", text)
    tokens = _tokenize(text)

    # Split into commands at `|`, `&&`, `||`, `;`, `&` and unquoted newlines; drop comments.
    segments: list[list[str]] = [[]]
    joiners: list[str | None] = [None]  # the operator before each segment
    in_comment = False
    for token in tokens:
        operator = _operator(token)
        if operator is not None:
            if in_comment:
                if "\n" not in token:
                    continue  # an operator inside a comment
                in_comment, operator = False, ";"  # the comment's line ends the command
            segments.append([])
            joiners.append(operator)
            continue
        if in_comment:
            continue
        if token.startswith("#"):
            in_comment = True
            continue
        segments[-1].append(token)

    parts: list[CommandPart] = []
    kept_joiners: list[str] = []
    for index, segment in enumerate(segments):
        before = joiners[index]
        after = joiners[index + 1] if index + 1 < len(joiners) else None
        if not segment:
            if before in _STRONG_JOINERS or after in _STRONG_JOINERS:
                raise _invalid(f"the command has an empty part next to {before or after}")
            continue  # a blank line or a trailing `;`
        if parts:
            kept_joiners.append(before or ";")
        parts.append(_parse_segment(segment, first=not parts))
    if not parts:
        raise _invalid("the command is empty")
    return ParsedCommand(command, tuple(parts), tuple(kept_joiners))


def _operator(token: str) -> str | None:
    """The joining operator a token stands for, or None (a word or a redirect)."""
    if not token or not set(token) <= set(_PUNCTUATION):
        return None
    operator = token.replace("\n", "")
    if not operator:
        return ";"
    if operator in _REDIRECTS or not operator.strip("<>"):
        return None
    if operator in _JOINERS:
        return operator
    raise _invalid(f"the command has an unexpected {operator!r}")


def _parse_segment(segment: list[str], *, first: bool) -> CommandPart:
    argv: list[str] = []
    redirects: list[tuple[str, str]] = []
    index = 0
    while index < len(segment):
        token = segment[index]
        if token in _REDIRECTS:
            if index + 1 >= len(segment):
                raise _invalid(f"the redirect {token} needs a file name")
            target = segment[index + 1]
            redirects.append((">" if token == ">|" else token, _norm_path(target)))
            index += 2
            continue
        argv.append(token)
        index += 1
    if first and argv and argv[0] == "$":
        argv = argv[1:]  # a copied shell prompt
    if not argv:
        raise _invalid("the command has a redirect but no program")
    name = argv[0].rsplit("/", 1)[-1]
    program = PROGRAM_ALIASES.get(name)
    if program is None:
        return CommandPart(program=name, args=tuple(argv[1:]), redirects=tuple(sorted(redirects)))
    part = _parse_program(program, argv[1:])
    return dataclasses.replace(part, redirects=tuple(sorted(redirects)))


@dataclasses.dataclass
class _Scan:
    positionals: list[str] = dataclasses.field(default_factory=list)
    flags: list[tuple[str, str | None]] = dataclasses.field(default_factory=list)
    command: list[str] | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


_OPTIONAL_HINT_VALUES = {"dry-run": ("client", "server", "none")}


def _scan(args: Sequence[str], table: _FlagTable) -> _Scan:
    """Split arguments into positionals, flags and the command after `--`, the way pflag does."""
    scan = _Scan()
    index = 0
    while index < len(args):
        token = args[index]
        nxt = args[index + 1] if index + 1 < len(args) else None
        if token == "--":
            scan.command = list(args[index + 1 :])
            break
        if token.startswith("--") and len(token) > 2:
            name, eq, value = token[2:].partition("=")
            kind = table.kind(name)
            if eq:
                scan.flags.append((name, value))
            elif kind == VALUE:
                if nxt is None:
                    scan.notes.append(f"--{name} needs a value")
                    scan.flags.append((name, ""))
                else:
                    scan.flags.append((name, nxt))
                    index += 1
            else:
                scan.flags.append((name, None))
                if kind == OPTIONAL and nxt in _OPTIONAL_HINT_VALUES.get(name, ()):
                    scan.notes.append(
                        f'"--{name} {nxt}" is read as --{name} followed by the argument '
                        f'"{nxt}"; write --{name}={nxt}'
                    )
        elif token.startswith("-") and len(token) > 1:
            body = token[1:]
            for position, char in enumerate(body):
                name = table.long_name(char)
                rest = body[position + 1 :]
                if table.kind(name) == VALUE:
                    if rest.startswith("="):
                        rest = rest[1:]
                    if rest:
                        scan.flags.append((name, rest))
                    elif nxt is None:
                        scan.notes.append(f"-{char} needs a value")
                        scan.flags.append((name, ""))
                    else:
                        scan.flags.append((name, nxt))
                        index += 1
                    break
                if rest.startswith("="):
                    scan.flags.append((name, rest[1:]))
                    break
                scan.flags.append((name, None))
        else:
            scan.positionals.append(token)
        index += 1
    return scan


def _verb_path(program: str, args: Sequence[str]) -> tuple[tuple[str, ...], int]:
    """The canonical verb path and how many positionals it used."""
    table = _flag_table(program, ())
    positionals = _scan(args, table).positionals
    if not positionals:
        return (), 0
    first = positionals[0]
    subcommands = HELM_SUBCOMMANDS if program == "helm" else KUBECTL_SUBCOMMANDS
    verb: tuple[str, ...] = (HELM_VERBS.get(first, first) if program == "helm" else first,)
    used = 1
    while verb in subcommands:
        positionals = _scan(args, _flag_table(program, verb)).positionals
        if used >= len(positionals):
            break
        sub = subcommands[verb].get(positionals[used].lower())
        if sub is None:
            break
        verb, used = (*verb, sub), used + 1
    return verb, used


def _parse_program(program: str, args: Sequence[str]) -> CommandPart:
    verb, used = _verb_path(program, args)
    table = _flag_table(program, verb)
    scan = _scan(args, table)
    positionals = scan.positionals[used:]
    notes = list(scan.notes)
    flags = _normalize_flags(program, verb, table, scan.flags, notes)
    schema, resources, rest = _positionals(program, verb, positionals, flags)
    command = tuple(scan.command) if scan.command is not None else None
    return CommandPart(
        program=program,
        verb=verb,
        resources=resources,
        args=rest,
        flags=types.MappingProxyType(flags),
        command=command,
        notes=tuple(notes),
        schema=schema,
    )


def _positionals(
    program: str,
    verb: tuple[str, ...],
    positionals: list[str],
    flags: dict[str, tuple[str, ...]],
) -> tuple[str, tuple[ResourceRef, ...], tuple[str, ...]]:
    """Read positional arguments by the verb's shape: resources, pairs, a pod, or literals."""
    if program == "helm":
        return "literal", (), tuple(_norm_path(p) for p in positionals)
    v0 = verb[0] if verb else ""
    if v0 in _RESOURCE_VERBS or verb == ("set", "resources"):
        return "resources", _resource_refs(positionals), ()
    if v0 in _NODE_VERBS:
        return "resources", tuple(sorted(_ref(p, "nodes") for p in positionals)), ()
    if verb in _PAIR_KINDS:
        removable = verb != ("set", "image")
        pairs = [p for p in positionals if "=" in p or (removable and p.endswith("-"))]
        refs = [p for p in positionals if p not in pairs]
        if verb == ("set", "env"):
            pairs += flags.pop("env", ())  # `-e A=1` is the positional `A=1`
        return "pairs", _resource_refs(refs), tuple(sorted(set(pairs)))
    if verb in _LAST_ARG:
        if not positionals:
            return "last", (), ()
        *refs, last = positionals
        value = _norm_selector(last) if verb == ("set", "selector") else last
        return "last", _resource_refs(refs), (value,)
    if v0 in _POD_VERBS:
        if not positionals:
            return "pod", (), ()
        target, *rest = positionals
        ref = _ref(target, "pods")
        if v0 == "logs" and len(rest) == 1 and "container" not in flags:
            flags["container"] = (rest[0],)  # `kubectl logs POD CONTAINER`
            rest = []
        if v0 == "port-forward":
            return "ports", (ref,), tuple(sorted(rest))
        return "pod", (ref,), tuple(rest)
    if v0 == "explain" and positionals:
        return "literal", (), (_norm_explain(positionals[0]), *positionals[1:])
    if verb == ("auth", "can-i") and len(positionals) >= 2:
        api_verb, target, *rest = positionals
        if not target.startswith("/") and target != "*":
            ref = _ref(target) if "/" in target else ResourceRef(*resolve_type(target))
            if rest and ref.name is None:
                ref, rest = dataclasses.replace(ref, name=rest[0]), rest[1:]
            target = str(ref)
        return "literal", (), (api_verb, target, *rest)
    if v0 == "kustomize":
        return "literal", (), tuple(_norm_path(p) for p in positionals)
    return "literal", (), tuple(positionals)


def _resource_refs(tokens: Sequence[str]) -> tuple[ResourceRef, ...]:
    """`TYPE NAME...`, `TYPE1,TYPE2 NAME...` or `TYPE/NAME...`, read as kubectl's builder does."""
    refs: list[ResourceRef] = []
    slashed = [t for t in tokens if "/" in t]
    plain = [t for t in tokens if "/" not in t]
    refs += [_ref(t) for t in slashed]
    if plain:
        type_tokens, names = plain[0].split(","), plain[1:]
        for type_token in filter(None, type_tokens):
            canonical, group = resolve_type(type_token)
            if names:
                refs += [ResourceRef(canonical, group, n) for n in names]
            else:
                refs.append(ResourceRef(canonical, group))
    return tuple(sorted(set(refs), key=lambda r: (r.type, r.group or "", r.name or "")))


def _norm_explain(path: str) -> str:
    """`deploy.spec.strategy` -> `deployment.spec.strategy` (the type resolved, fields kept)."""
    head, dot, fields = path.partition(".")
    canonical, group = resolve_type(head)
    name = _SINGULAR.get(canonical, canonical)
    if group:
        name = f"{name}.{group}"
    return f"{name}{dot}{fields}"


# --------------------------------------------------------------------------------------------
# Flag values
# --------------------------------------------------------------------------------------------


def _normalize_flags(
    program: str,
    verb: tuple[str, ...],
    table: _FlagTable,
    raw: list[tuple[str, str | None]],
    notes: list[str],
) -> dict[str, list[str] | tuple[str, ...]]:
    ignored = _IGNORED_FLAGS.get(program, frozenset())
    values: dict[str, list[str]] = {}
    for name, value in raw:
        if name in ignored:
            continue
        kind = table.kind(name)
        if kind == OPTIONAL:
            normalized = _norm_optional(program, name, value, notes)
        elif kind == BOOL or value is None:
            normalized = _norm_bool(value)
        else:
            normalized = _norm_value(program, verb, name, value)
        if normalized is None:
            continue
        if program == "helm" and name in _HELM_SPLIT_FLAGS:
            values.setdefault(name, []).extend(_split_helm_set(normalized))
        else:
            values.setdefault(name, []).append(normalized)
    for name in list(values):
        if name in _SET_LIST_FLAGS | _MAP_FLAGS or (name == "resource" and program == "kubectl"):
            items = {item for value in values[name] for item in value.split(",") if item}
            values[name] = [",".join(sorted(items))]
    defaults = _defaults_for(program, verb)
    result: dict[str, tuple[str, ...]] = {}
    for name, vals in values.items():
        default = defaults.get(name, "false" if table.kind(name) == BOOL else None)
        if default is not None and all(v == default for v in vals):
            continue
        result[name] = tuple(sorted(vals))
    return result  # type: ignore[return-value]


def _defaults_for(program: str, verb: tuple[str, ...]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for size in range(1, len(verb) + 1):
        merged.update(_DEFAULTS.get((program, *verb[:size]), {}))
    return merged


_TRUE = frozenset({"true", "t", "1"})
_FALSE = frozenset({"false", "f", "0"})


def _norm_bool(value: str | None) -> str:
    if value is None:
        return "true"
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return "true"
    if lowered in _FALSE:
        return "false"
    return value


def _norm_optional(program: str, name: str, value: str | None, notes: list[str]) -> str | None:
    """pflag flags with a default for their bare form: `--dry-run`, `--validate`, `--cascade`."""
    lowered = value.strip().lower() if value is not None else None
    if name == "dry-run":
        if lowered is None:
            spaced = any(note.startswith('"--dry-run ') for note in notes)
            if program == "kubectl" and not spaced:
                notes.append("--dry-run alone is deprecated; write --dry-run=client")
            return "client"
        if lowered in _TRUE:
            return "client"
        if lowered in _FALSE or lowered == "none":
            return None
        return value
    if name == "validate":
        if lowered is None or lowered in _TRUE or lowered == "strict":
            return None
        return "ignore" if lowered in _FALSE else value
    if name == "cascade":
        if lowered is None or lowered in _TRUE or lowered == "background":
            return None
        return "orphan" if lowered in _FALSE else value
    return value


def _norm_value(program: str, verb: tuple[str, ...], name: str, value: str) -> str:
    value = value.strip()
    if name == "output":
        return _norm_output(value)
    if name == "sort-by":
        return value if verb[:1] == ("top",) else _relaxed_jsonpath(value)
    if name in _SELECTOR_FLAGS or (name == "labels" and program == "kubectl"):
        return _norm_selector(value)
    if name == "resource" and program == "kubectl":
        return ",".join(_norm_resource_token(t) for t in value.split(",") if t.strip())
    if name in _DURATION_FLAGS:
        return _norm_duration(value)
    if name in _JSON_FLAGS:
        return _norm_json(value)
    if name in _PATH_FLAGS:
        return _norm_path(value)
    if name in _INT_FLAGS and re.fullmatch(r"[+-]?\d+", value):
        return str(int(value))
    if name in ("for", "from") and "/" in value and "=" not in value and ":" not in value:
        return str(_ref(value))
    if name == "schedule":
        return " ".join(value.split())
    if name in ("label-columns", "verb", "scopes", "types", "verbs"):
        return ",".join(item.strip() for item in value.split(","))
    if name in _MAP_FLAGS:
        return ",".join(item.strip() for item in value.split(","))
    return value


def _norm_output(value: str) -> str:
    fmt, eq, template = value.partition("=")
    if not eq:
        return value
    if fmt in ("jsonpath", "jsonpath-as-json"):
        template = _norm_jsonpath(template)
    elif fmt == "custom-columns":
        columns = []
        for column in template.split(","):
            header, colon, path = column.partition(":")
            columns.append(f"{header.strip()}:{_relaxed_jsonpath(path)}" if colon else column)
        template = ",".join(columns)
    return f"{fmt}={template}"


_TRAILING_NEWLINE = re.compile(r"""\{\s*(?:"\\n"|'\\n')\s*\}$""")


def _norm_jsonpath(template: str) -> str:
    """Spaces inside braces dropped; a trailing `{"\\n"}` (print a newline) ignored."""
    template = template.strip()
    template = re.sub(r"\{\s+", "{", template)
    template = re.sub(r"\s+\}", "}", template)
    stripped = _TRAILING_NEWLINE.sub("", template)
    return stripped or template


def _relaxed_jsonpath(path: str) -> str:
    """kubectl's relaxed jsonpath (`--sort-by`, custom columns): `{.a}`, `.a` and `a` are equal."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1].strip()
    if path and not path.startswith("."):
        path = "." + path
    return path


def _split_top_level(value: str, separator: str = ",") -> list[str]:
    """Split on `separator` outside parentheses, brackets and braces; `\\,` is not a separator."""
    parts, depth, current, index = [], 0, [], 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            current.append(value[index : index + 2])
            index += 2
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _norm_selector(value: str) -> str:
    """A label or field selector as a sorted set of requirements (`==` is `=`, sets sorted)."""
    requirements = set()
    for raw in _split_top_level(value):
        item = " ".join(raw.split())
        if not item:
            continue
        match = re.fullmatch(r"(\S+?)\s+(in|notin)\s*\((.*)\)", item, re.IGNORECASE)
        if match:
            key, op, members = match.groups()
            names = sorted({m.strip() for m in members.split(",") if m.strip()})
            requirements.add(f"{key} {op.lower()} ({','.join(names)})")
            continue
        match = re.fullmatch(r"([^=!\s]+)\s*(==|!=|=)\s*(.*)", item)
        if match:
            key, op, val = match.groups()
            requirements.add(f"{key}{'=' if op == '==' else op}{val}")
            continue
        if item.startswith("!"):
            item = "!" + item[1:].strip()
        requirements.add(item)
    return ",".join(sorted(requirements))


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def _norm_duration(value: str) -> str:
    """A Go duration in its shortest exact unit: `1800s`, `30m` and `0.5h` are all `30m`."""
    if value == "0":
        return "0s"
    if not re.fullmatch(rf"(?:{_DURATION_PART.pattern})+", value):
        return value
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))
    millis = round(seconds * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def _norm_json(value: str) -> str:
    try:
        return json.dumps(json.loads(value), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return " ".join(value.split())


def _norm_path(value: str) -> str:
    """`./overlays/prod/` is `overlays/prod`; URLs only lose a trailing slash."""
    if value in ("-", ""):
        return value
    if "://" in value:
        return value.rstrip("/") or value
    while value.startswith("./") and len(value) > 2:
        value = value[2:]
    value = re.sub(r"/{2,}", "/", value)
    return value.rstrip("/") if len(value) > 1 else value


def _split_helm_set(value: str) -> list[str]:
    return [item.strip() for item in _split_top_level(value) if item.strip()]


def _flag_text(name: str, value: str) -> str:
    dashes = "" if name.startswith("-") else "--"
    if value == "true":
        return f"{dashes}{name}"
    return f"{dashes}{name}={value}"


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _diff_parts(expected: CommandPart, given: CommandPart) -> tuple[int, list[str]]:
    if expected.program != given.program:
        if expected.program in ("kubectl", "helm"):
            return _PROGRAM_MISMATCH, [
                f"expected a {expected.program} command, got {_quote(given.program)}"
            ]
        return _PROGRAM_MISMATCH, [
            f"the program differs: expected {_quote(expected.program)}, got {_quote(given.program)}"
        ]
    if expected.verb != given.verb:
        got = _quote(" ".join(given.verb)) if given.verb else "no verb"
        return _VERB_MISMATCH, [
            f"the verb differs: expected {_quote(' '.join(expected.verb))}, got {got}"
        ]
    feedback: list[str] = []
    feedback += _diff_resources(expected.resources, given.resources)
    feedback += _diff_args(expected, given)
    feedback += _diff_flags(expected, given)
    feedback += _diff_command(expected.command, given.command)
    feedback += _diff_redirects(expected.redirects, given.redirects)
    return len(feedback), feedback


def _diff_resources(expected: tuple[ResourceRef, ...], given: tuple[ResourceRef, ...]) -> list[str]:
    unmatched = list(given)
    missing: list[ResourceRef] = []
    for ref in expected:
        match = next((g for g in unmatched if ref.same_as(g)), None)
        if match is None:
            missing.append(ref)
        else:
            unmatched.remove(match)
    if not missing and not unmatched:
        return []
    if len(missing) == 1 and len(unmatched) == 1:
        want, got = missing[0], unmatched[0]
        out = []
        same_type = want.type == got.type and (
            want.group == got.group or want.group is None or got.group is None
        )
        if not same_type:
            out.append(
                f"the resource type differs: expected {_quote(want.type_text)}, "
                f"got {_quote(got.type_text)}"
            )
        if want.name != got.name:
            if got.name is None:
                out.append(f"missing the name {_quote(want.name or '')}")
            elif want.name is None:
                out.append(f"unexpected name {_quote(got.name)}")
            else:
                out.append(
                    f"the name differs: expected {_quote(want.name)}, got {_quote(got.name)}"
                )
        return out
    out = [f"missing the resource {_quote(str(r))}" for r in missing]
    out += [f"unexpected resource {_quote(str(r))}" for r in unmatched]
    return out


def _pairs(args: tuple[str, ...]) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for arg in args:
        if "=" in arg:
            key, _, value = arg.partition("=")
            result[key] = value
        else:
            result[arg[:-1]] = None
    return result


def _diff_args(expected: CommandPart, given: CommandPart) -> list[str]:
    if expected.args == given.args:
        return []
    key = (expected.program, *expected.verb)
    if expected.schema == "pairs":
        kind = _PAIR_KINDS[expected.verb]
        want, got = _pairs(expected.args), _pairs(given.args)
        out = []
        for name in sorted(set(want) | set(got)):
            if name not in got:
                out.append(f"missing the {kind} {_quote(_pair_text(name, want[name]))}")
            elif name not in want:
                out.append(f"unexpected {kind} {_quote(_pair_text(name, got[name]))}")
            elif want[name] != got[name]:
                want_text = _quote(_pair_text(name, want[name]))
                got_text = _quote(_pair_text(name, got[name]))
                out.append(
                    f"the {kind} {_quote(name)} differs: expected {want_text}, got {got_text}"
                )
        return out
    if expected.schema in ("last", "ports"):
        label = _LAST_ARG.get(expected.verb, "port mapping")
        want_items, got_items = Counter(expected.args), Counter(given.args)
        if len(expected.args) == 1 and len(given.args) == 1:
            return [
                f"the {label} differs: expected {_quote(expected.args[0])}, "
                f"got {_quote(given.args[0])}"
            ]
        out = [f"missing the {label} {_quote(a)}" for a in sorted(want_items - got_items)]
        out += [f"unexpected {label} {_quote(a)}" for a in sorted(got_items - want_items)]
        return out
    labels = _labels_for(key)
    out = []
    for index in range(max(len(expected.args), len(given.args))):
        label = labels[index] if index < len(labels) else "argument"
        if index >= len(given.args):
            out.append(f"missing the {label} {_quote(expected.args[index])}")
        elif index >= len(expected.args):
            hint = ""
            if (
                expected.verb[:1] in (("exec",), ("run",), ("debug",))
                and given.command is None
                and not given.notes
            ):
                hint = " (put the container's command after --)"
            out.append(f"unexpected argument {_quote(given.args[index])}{hint}")
        elif expected.args[index] != given.args[index]:
            out.append(
                f"the {label} differs: expected {_quote(expected.args[index])}, "
                f"got {_quote(given.args[index])}"
            )
    return out


def _labels_for(key: tuple[str, ...]) -> tuple[str, ...]:
    for size in range(len(key), 1, -1):
        if key[:size] in _ARG_LABELS:
            return _ARG_LABELS[key[:size]]
    return ()


def _pair_text(key: str, value: str | None) -> str:
    return f"{key}-" if value is None else f"{key}={value}"


def _diff_flags(expected: CommandPart, given: CommandPart) -> list[str]:
    out = []
    names = sorted(set(expected.flags) | set(given.flags), key=lambda n: (n != "namespace", n))
    for name in names:
        want, got = expected.flags.get(name), given.flags.get(name)
        if want == got:
            continue
        if name == "namespace":
            if want and got:
                out.append(
                    f"the namespace differs: expected {_quote(want[0])}, got {_quote(got[0])}"
                )
            elif want:
                out.append(f"missing flag --namespace (expected {_quote(want[0])})")
            else:
                out.append("extra flag --namespace (the task uses the current namespace)")
            continue
        if got is None:
            out.append(f"missing flag {_flag_label(name, want)}")
        elif want is None:
            out.append(f"extra flag {_flag_label(name, got)}")
        elif len(want) == 1 and len(got) == 1:
            out.append(
                f"the value of {_dashed(name)} differs: expected {_quote(want[0])}, "
                f"got {_quote(got[0])}"
            )
        else:
            missing = Counter(want) - Counter(got)
            extra = Counter(got) - Counter(want)
            out += [f"missing flag {_flag_text(name, v)}" for v in sorted(missing.elements())]
            out += [f"extra flag {_flag_text(name, v)}" for v in sorted(extra.elements())]
    return out


def _dashed(name: str) -> str:
    return name if name.startswith("-") else f"--{name}"


def _flag_label(name: str, values: tuple[str, ...] | None) -> str:
    """`--replicas`; or `--namespaced=false` when a boolean has its non-default value."""
    if values and len(values) == 1 and values[0] in ("false",):
        return _flag_text(name, values[0])
    return _dashed(name)


def _diff_command(expected: tuple[str, ...] | None, given: tuple[str, ...] | None) -> list[str]:
    if expected == given:
        return []
    if given is None:
        return [f"missing the command after --: {_quote(shlex.join(expected or ()))}"]
    if expected is None:
        return [f"unexpected command after --: {_quote(shlex.join(given))}"]
    return [
        f"the command after -- differs: expected {_quote(shlex.join(expected))}, "
        f"got {_quote(shlex.join(given))}"
    ]


def _diff_redirects(
    expected: tuple[tuple[str, str], ...], given: tuple[tuple[str, str], ...]
) -> list[str]:
    if expected == given:
        return []
    want = [f"{op} {target}" for op, target in expected]
    got = [f"{op} {target}" for op, target in given]
    if len(want) == 1 and len(got) == 1:
        return [f"the redirect differs: expected {_quote(want[0])}, got {_quote(got[0])}"]
    out = [f"missing the redirect {_quote(w)}" for w in want if w not in got]
    out += [f"unexpected redirect {_quote(g)}" for g in got if g not in want]
    return out


def _shape(parsed: ParsedCommand) -> str:
    if len(parsed.parts) == 1:
        return "a single command"
    return f"{len(parsed.parts)} commands joined by {' '.join(parsed.joiners)}"


def diff(expected: ParsedCommand, given: ParsedCommand) -> tuple[int, list[str]]:
    """A score (0 = equivalent, lower is closer) and what differs, from the learner's side."""
    if len(expected.parts) != len(given.parts) or expected.joiners != given.joiners:
        score, feedback = _SHAPE_MISMATCH, [f"expected {_shape(expected)}, got {_shape(given)}"]
        if len(expected.parts) == len(given.parts):
            for index, (want, got) in enumerate(zip(expected.parts, given.parts, strict=True)):
                part_score, part_feedback = _diff_parts(want, got)
                score += part_score
                feedback += [f"in command {index + 1}: {f}" for f in part_feedback]
        else:
            score += _diff_parts(expected.parts[0], given.parts[0])[0]
        return score, feedback
    total, feedback = 0, []
    for index, (want, got) in enumerate(zip(expected.parts, given.parts, strict=True)):
        score, part_feedback = _diff_parts(want, got)
        total += score
        if len(expected.parts) > 1:
            part_feedback = [f"in command {index + 1}: {f}" for f in part_feedback]
        feedback += part_feedback
    return total, feedback


@functools.lru_cache(maxsize=2048)
def _parse_accepted(command: str) -> ParsedCommand:
    try:
        return parse(command)
    except ValidationFailed as exc:
        raise ValueError(f"accepted command {command!r} does not parse: {exc.detail}") from None


def compare(given: str, accepted: Sequence[str]) -> KubectlVerdict:
    """Grade a learner's command against the accepted ones; never raises for bad learner input.

    The verdict is correct when the command is equivalent to any accepted command. Otherwise the
    feedback says what differs from the closest accepted command (fewest differences; a different
    program or verb counts as far). Notes about the learner's spelling (a deprecated bare
    `--dry-run`) are added to the feedback either way. An accepted command that does not parse is a
    content error and raises ValueError.
    """
    if isinstance(accepted, str) or not accepted:
        raise ValueError("compare needs a non-empty list of accepted commands")
    expected = [(text, _parse_accepted(text)) for text in accepted]
    try:
        parsed = parse(given)
    except ValidationFailed as exc:
        return KubectlVerdict(False, None, [exc.detail], closest=accepted[0])
    notes = list(dict.fromkeys(parsed.notes))
    best: tuple[int, str, list[str]] | None = None
    for text, candidate in expected:
        score, feedback = diff(candidate, parsed)
        if not feedback:
            return KubectlVerdict(True, text, notes, closest=text)
        if best is None or score < best[0]:
            best = (score, text, feedback)
    assert best is not None
    return KubectlVerdict(False, None, best[2] + notes, closest=best[1])


__all__ = [
    "MAX_COMMAND_LENGTH",
    "CommandPart",
    "KubectlVerdict",
    "ParsedCommand",
    "ResourceRef",
    "compare",
    "diff",
    "parse",
    "resolve_type",
]
