"""kubectl command parsing and comparison: equivalent spellings accepted, real differences named."""

from __future__ import annotations

import pytest

from ckad_api.domain.errors import ValidationFailed
from ckad_api.domain.kubectl import MAX_COMMAND_LENGTH, compare, parse, resolve_type

# (accepted command, an equivalent spelling a learner may type)
EQUIVALENT = [
    # the `k` alias, resource short names, plurals, singulars and kind.group forms
    ("kubectl get pods", "k get pods"),
    ("kubectl get pods", "kubectl get po"),
    ("kubectl get pods", "kubectl get pod"),
    ("kubectl get pods", "kubectl get Pods"),
    ("kubectl get pods", "kubectl get pods.v1"),
    ("kubectl get deployments", "k get deploy"),
    ("kubectl get deployments", "k get deployment.apps"),
    ("kubectl get deployments", "k get deployments.v1.apps"),
    ("kubectl get services", "k get svc"),
    ("kubectl get configmaps -n shop", "k get cm -n shop"),
    ("kubectl get namespaces", "k get ns"),
    ("kubectl get serviceaccounts", "k get sa"),
    ("kubectl get networkpolicies", "k get netpol"),
    ("kubectl get networkpolicies", "k get networkpolicy.networking.k8s.io"),
    ("kubectl get persistentvolumeclaims", "k get pvc"),
    ("kubectl get persistentvolumes", "k get pv"),
    ("kubectl get cronjobs", "k get cj"),
    ("kubectl get jobs", "k get job"),
    ("kubectl get replicasets", "k get rs"),
    ("kubectl get daemonsets -A", "k get ds -A"),
    ("kubectl get statefulsets", "k get sts"),
    ("kubectl get ingresses", "k get ing"),
    ("kubectl get endpoints", "k get ep"),
    ("kubectl get nodes", "k get no"),
    ("kubectl get horizontalpodautoscalers", "k get hpa"),
    ("kubectl get poddisruptionbudgets", "k get pdb"),
    ("kubectl describe resourcequota -n dev", "k describe quota -n dev"),
    ("kubectl describe limitrange -n dev", "k describe limits -n dev"),
    ("kubectl get storageclasses", "k get sc"),
    ("kubectl get crd", "k get customresourcedefinitions.apiextensions.k8s.io"),
    ("kubectl get events -n shop", "k get ev -n shop"),
    ("kubectl get roles,rolebindings", "k get rolebinding,role"),
    ("kubectl get clusterroles", "k get clusterrole.rbac.authorization.k8s.io"),
    ("kubectl get backups.stable.example.com -A", "k get backup -A"),
    # resource/name versus resource name
    ("kubectl describe pod web", "k describe pod/web"),
    ("kubectl rollout undo deployment/web", "k rollout undo deploy web"),
    ("kubectl logs pod/web", "k logs web"),
    ("kubectl exec web -- id", "k exec pod/web -- id"),
    # short and long flags, = or space, order, combined short flags
    ("kubectl get pods -n shop", "k get pods --namespace shop"),
    ("kubectl get pods -n shop", "k get pods --namespace=shop"),
    ("kubectl get pods -n shop", "k -n shop get pods"),
    ("kubectl get pods -n shop", "k get pods -n=shop"),
    ("kubectl get pods -o yaml", "k get pods -oyaml"),
    ("kubectl get pods -o yaml", "k get pods --output=yaml"),
    ("kubectl get pods -o yaml", "k get pods -o=yaml"),
    ("kubectl get pods -l app=web", "k get pods --selector app=web"),
    ("kubectl get pods -l app=web", "k get pods -l app==web"),
    ("kubectl get pods -l 'env in (prod,staging)'", "k get po -l 'env in (staging, prod)'"),
    ("kubectl get pods -l app=web,tier=fe", "k get po -l tier=fe,app=web"),
    ("kubectl apply -f web.yaml", "k apply --filename=./web.yaml"),
    ("kubectl apply -k overlays/prod", "k apply --kustomize overlays/prod/"),
    ("kubectl logs app -c sidecar", "k logs app --container=sidecar"),
    ("kubectl logs app -c sidecar", "k logs app sidecar"),
    ("kubectl exec -it web -- sh", "k exec web -ti -- sh"),
    ("kubectl exec -it web -- sh", "k exec --stdin --tty web -- sh"),
    ("kubectl exec -it web -- sh", "k exec -i -t web -- sh"),
    ("kubectl get pods -A", "k get pods --all-namespaces"),
    ("kubectl get pods -A", "k get pods --all-namespaces=true"),
    ("kubectl logs web --previous", "k logs -p web"),
    ("kubectl logs web --previous", "k logs web --previous=true"),
    ("kubectl get pods -w", "k get pods --watch"),
    ("kubectl apply -R -f dir", "k apply --recursive --filename dir"),
    ("kubectl get pods -L track", "k get pods --label-columns=track"),
    (
        "kubectl create deployment web --image=nginx --replicas=3",
        "k create deploy web -r 3 --image nginx",
    ),
    ("kubectl label pod web env=prod --overwrite", "k label --overwrite=true po web env=prod"),
    # --dry-run forms, defaults
    (
        "kubectl run web --image=nginx --dry-run=client -o yaml",
        "k run web --image nginx -oyaml --dry-run",
    ),
    (
        "kubectl run web --image=nginx --dry-run=client -o yaml",
        "k run web --image=nginx --dry-run=true -o yaml",
    ),
    ("kubectl run web --image=nginx", "k run web --image=nginx --dry-run=none"),
    ("kubectl run web --image=nginx", "k run web --image=nginx --restart=Always"),
    ("kubectl expose deploy web --port=80", "k expose deploy web --port 80 --type=ClusterIP"),
    ("kubectl api-resources", "k api-resources --namespaced=true"),
    # the command after --
    (
        "kubectl create job pi --image=perl -- perl -wle 'print 1'",
        'k create job pi --image perl -- perl -wle "print 1"',
    ),
    (
        "kubectl run t --rm -it --image=busybox -- nslookup web",
        "k run t --image=busybox -ti --rm -- nslookup web",
    ),
    # repeated flags as multisets, lists as sets, maps
    (
        "kubectl create cm app --from-literal=A=1 --from-literal=B=2",
        "k create configmap app --from-literal B=2 --from-literal A=1",
    ),
    (
        "kubectl create role r --verb=get,list --resource=pods",
        "k create role r --verb=list --verb=get --resource=po",
    ),
    (
        "kubectl create quota q --hard=pods=10,requests.cpu=2",
        "k create quota q --hard=requests.cpu=2,pods=10",
    ),
    (
        "kubectl set resources deploy web --requests=cpu=250m,memory=256Mi",
        "k set resources deploy/web --requests=memory=256Mi,cpu=250m",
    ),
    ("kubectl set env deploy/web A=1 B=2", "k set env deployment web -e B=2 A=1"),
    # normalised values: jsonpath, sort-by, JSON patches, durations, selectors, references
    (
        "kubectl get pod web -o jsonpath='{.status.podIP}'",
        'k get po web -o jsonpath="{.status.podIP}"',
    ),
    (
        "kubectl get pod web -o jsonpath='{.status.podIP}'",
        "k get po web -ojsonpath='{.status.podIP}{\"\\n\"}'",
    ),
    ("kubectl get events --sort-by=.lastTimestamp", "k get ev --sort-by='{.lastTimestamp}'"),
    (
        "kubectl get pods -o custom-columns=N:.metadata.name",
        "k get po -o custom-columns='N:{.metadata.name}'",
    ),
    (
        'kubectl patch cj r -p \'{"spec":{"suspend":true}}\'',
        'k patch cronjob r -p \'{ "spec": { "suspend": true } }\'',
    ),
    ("kubectl create token sa1 --duration=30m", "k create token sa1 --duration 1800s"),
    ("kubectl logs web --since=1h", "k logs web --since=60m"),
    ("kubectl create job j --from=cronjob/backup", "k create job j --from cj/backup"),
    ("kubectl events --for pod/web", "k events --for=po/web"),
    (
        "kubectl set selector svc web 'app=web,tier=fe'",
        "k set selector service/web tier=fe,app=web",
    ),
    # subcommands and their aliases
    ("kubectl create serviceaccount bot", "k create sa bot"),
    ("kubectl create namespace shop", "k create ns shop"),
    ("kubectl top pod api --containers", "k top po api --containers"),
    ("kubectl set serviceaccount deploy web bot", "k set sa deployment/web bot"),
    ("kubectl config use-context k8s-c2", "k config use k8s-c2"),
    (
        "kubectl config set-context --current --namespace=payments",
        "k config set-context --current -n payments",
    ),
    (
        "kubectl config set-context --current --namespace=payments",
        "k config set-context $(kubectl config current-context) --namespace payments",
    ),
    ("kubectl auth can-i create pods -n ci", "k auth can-i create pod --namespace ci"),
    ("kubectl explain deployment.spec.strategy", "k explain deploy.spec.strategy"),
    ("kubectl debug node/worker-1 -it --image=busybox", "k debug no/worker-1 --image busybox -ti"),
    # pipelines, redirects, prompts, comments
    (
        "kubectl kustomize overlays/dev | kubectl apply -f -",
        "k kustomize ./overlays/dev/ | k apply -f -",
    ),
    (
        "kubectl run web --image=nginx --dry-run=client -o yaml > web.yaml",
        "k run web --image=nginx --dry-run=client -oyaml >./web.yaml",
    ),
    ("kubectl get pods", "$ kubectl get pods"),
    ("kubectl get pods", "kubectl get pods   # list them"),
    ("kubectl get pods", "kubectl get pods;"),
    # helm
    (
        "helm install web podinfo/podinfo -n shop --set replicaCount=2",
        "helm install web podinfo/podinfo --set=replicaCount=2 --namespace shop",
    ),
    ("helm install web ./chart --set a=1,b=2", "helm install web chart --set b=2 --set a=1"),
    (
        "helm upgrade --install web ./chart -f values.yaml",
        "helm upgrade web ./chart -i --values ./values.yaml",
    ),
    ("helm uninstall web -n shop", "helm delete web -n shop"),
    ("helm list -A", "helm ls --all-namespaces"),
    ("helm rollback web 2 -n shop", "helm rollback -n shop web 2"),
    ("helm show values podinfo/podinfo", "helm inspect values podinfo/podinfo"),
]

# (accepted command, a learner's command that differs, a fragment of the expected feedback)
DIFFERENT = [
    (
        "kubectl get pods -n web",
        "kubectl get pods -n default",
        'the namespace differs: expected "web", got "default"',
    ),
    ("kubectl get pods -n web", "kubectl get pods", "missing flag --namespace"),
    ("kubectl get pods", "kubectl get pods -n default", "extra flag --namespace"),
    (
        "kubectl rollout undo deployment/web",
        "kubectl rollout history deployment/web",
        'the verb differs: expected "rollout undo", got "rollout history"',
    ),
    (
        "kubectl get pods",
        "kubectl describe pods",
        'the verb differs: expected "get", got "describe"',
    ),
    (
        "kubectl create deployment api --image=nginx --replicas=3",
        "kubectl create deployment api --image=nginx",
        "missing flag --replicas",
    ),
    (
        "kubectl create deployment api --image=nginx",
        "kubectl create deployment api --image=nginx -o yaml",
        "extra flag --output",
    ),
    (
        "kubectl create deployment api --image=nginx:1.27",
        "kubectl create deployment api --image=NGINX:1.27",
        'the value of --image differs: expected "nginx:1.27", got "NGINX:1.27"',
    ),
    (
        "kubectl create deployment api --image=nginx --replicas=3",
        "k create deploy api --image=nginx --replicas=2",
        'the value of --replicas differs: expected "3", got "2"',
    ),
    (
        "kubectl create deployment api --image=nginx",
        "k create deploy web --image=nginx",
        'the name differs: expected "api", got "web"',
    ),
    (
        "kubectl get deployments",
        "kubectl get statefulsets",
        'the resource type differs: expected "deployments", got "statefulsets"',
    ),
    (
        "kubectl get pods",
        "kubectl get services",
        'the resource type differs: expected "pods", got "services"',
    ),
    (
        "kubectl describe pod web",
        "kubectl describe pod api",
        'the name differs: expected "web", got "api"',
    ),
    ("kubectl describe node worker-1", "kubectl describe nodes", 'missing the name "worker-1"'),
    (
        "kubectl describe quota -n dev",
        "kubectl describe quota dev-quota -n dev",
        'unexpected name "dev-quota"',
    ),
    (
        "kubectl get backups.stable.example.com",
        "kubectl get backups.other.io",
        "the resource type differs",
    ),
    (
        "kubectl run web --image=nginx --dry-run=client -o yaml",
        "kubectl run web --image=nginx --dry-run=server -o yaml",
        'the value of --dry-run differs: expected "client", got "server"',
    ),
    (
        "kubectl run web --image=nginx --dry-run=client -o yaml",
        "kubectl run web --image=nginx --dry-run client -o yaml",
        "write --dry-run=client",
    ),
    (
        "kubectl run web --image=nginx --dry-run=client -o yaml > web.yaml",
        "kubectl run web --image=nginx --dry-run=client -o yaml",
        'missing the redirect "> web.yaml"',
    ),
    (
        "kubectl run web --image=nginx --dry-run=client -o yaml > web.yaml",
        "kubectl run web --image=nginx --dry-run=client -o yaml > pod.yaml",
        'the redirect differs: expected "> web.yaml", got "> pod.yaml"',
    ),
    (
        "kubectl get pods -o yaml",
        "kubectl get pods -o json",
        'the value of --output differs: expected "yaml", got "json"',
    ),
    (
        "kubectl exec -it web -- /bin/sh",
        "kubectl exec -it web -- sh",
        'the command after -- differs: expected "/bin/sh", got "sh"',
    ),
    ("kubectl exec -it web -- /bin/sh", "kubectl exec -i web -- /bin/sh", "missing flag --tty"),
    (
        "kubectl exec -it web -- /bin/sh",
        "kubectl exec -it web /bin/sh",
        "missing the command after --",
    ),
    ("kubectl exec web -- id", "kubectl exec web -- id -u", 'expected "id", got "id -u"'),
    (
        "kubectl create job pi --image=perl",
        "kubectl create job pi --image=perl -- perl -v",
        "unexpected command after --",
    ),
    ("kubectl logs web --previous", "kubectl logs -f web", "missing flag --previous"),
    ("kubectl logs web --previous", "kubectl logs web --previous --follow", "extra flag --follow"),
    (
        "kubectl logs app -c sidecar",
        "kubectl logs app -c main",
        'the value of --container differs: expected "sidecar", got "main"',
    ),
    (
        "kubectl create cm app --from-literal=A=1 --from-literal=B=2",
        "kubectl create cm app --from-literal=A=1",
        "missing flag --from-literal=B=2",
    ),
    (
        "kubectl create cm app --from-literal=A=1",
        "kubectl create cm app --from-literal=A=1 --from-literal=C=3",
        "extra flag --from-literal=C=3",
    ),
    (
        "kubectl label pod web env=prod --overwrite",
        "kubectl label pod web env=dev --overwrite",
        'the label "env" differs: expected "env=prod", got "env=dev"',
    ),
    (
        "kubectl label pod web env=prod --overwrite",
        "kubectl label pod web env=prod",
        "missing flag --overwrite",
    ),
    ("kubectl label pod web env-", "kubectl label pod web env=", 'the label "env" differs'),
    (
        "kubectl label pod web tier=frontend",
        "kubectl label pod web",
        'missing the label "tier=frontend"',
    ),
    (
        "kubectl set image deploy/web nginx=nginx:1.27",
        "kubectl set image deploy/web nginx=nginx:1.26",
        'the image of container "nginx" differs',
    ),
    (
        "kubectl api-resources --namespaced=false",
        "kubectl api-resources",
        "missing flag --namespaced=false",
    ),
    (
        "kubectl api-resources --namespaced=false",
        "kubectl api-resources --namespaced false",
        'unexpected argument "false"',
    ),
    (
        "kubectl get pods -l app=web",
        "kubectl get pods -l app=api",
        'the value of --selector differs: expected "app=web", got "app=api"',
    ),
    (
        "kubectl get pods -A --field-selector=status.phase!=Running",
        "kubectl get pods -A --field-selector=status.phase=Running",
        "the value of --field-selector differs",
    ),
    (
        'kubectl patch cj r -p \'{"spec":{"suspend":true}}\'',
        'kubectl patch cj r -p \'{"spec":{"suspend":false}}\'',
        "the value of --patch differs",
    ),
    (
        "kubectl create token sa1 --duration=30m",
        "kubectl create token sa1 --duration=1h",
        'the value of --duration differs: expected "30m", got "1h"',
    ),
    (
        "kubectl create role r --verb=get,list --resource=pods",
        "kubectl create role r --verb=get --resource=pods",
        'the value of --verb differs: expected "get,list", got "get"',
    ),
    (
        "kubectl auth can-i create pods -n ci",
        "kubectl auth can-i list pods -n ci",
        'the API verb differs: expected "create", got "list"',
    ),
    (
        "kubectl explain deployment.spec.strategy",
        "kubectl explain deployment.spec",
        "the field differs",
    ),
    (
        "kubectl config use-context k8s-c2",
        "kubectl config use-context k8s-c1",
        'the context differs: expected "k8s-c2", got "k8s-c1"',
    ),
    (
        "kubectl config use-context k8s-c2",
        "kubectl config set-context k8s-c2",
        'the verb differs: expected "config use-context", got "config set-context"',
    ),
    (
        "kubectl create secret generic s --from-literal=a=b",
        "kubectl create secret tls s --from-literal=a=b",
        'expected "create secret generic", got "create secret tls"',
    ),
    (
        "kubectl top pod api --containers",
        "kubectl top node api --containers",
        'expected "top pod", got "top node"',
    ),
    (
        "kubectl port-forward svc/web 8080:80",
        "kubectl port-forward svc/web 80:8080",
        'the port mapping differs: expected "8080:80", got "80:8080"',
    ),
    (
        "kubectl port-forward svc/web 8080:80",
        "kubectl port-forward pod/web 8080:80",
        'the resource type differs: expected "services", got "pods"',
    ),
    (
        "kubectl apply -k overlays/staging",
        "kubectl apply -f overlays/staging",
        "missing flag --kustomize",
    ),
    (
        "kubectl kustomize overlays/staging | kubectl apply -f -",
        "kubectl kustomize overlays/staging",
        "expected 2 commands joined by |, got a single command",
    ),
    (
        "kubectl kustomize overlays/dev | kubectl apply -f -",
        "kubectl kustomize overlays/dev | kubectl create -f -",
        "in command 2: the verb differs",
    ),
    ("kubectl get pods", "helm list", 'expected a kubectl command, got "helm"'),
    (
        "helm install web podinfo/podinfo -n shop --set replicaCount=2",
        "helm install web podinfo/podinfo -n shop --set replicaCount=3",
        'the value of --set differs: expected "replicaCount=2", got "replicaCount=3"',
    ),
    (
        "helm install web podinfo/podinfo -n shop",
        "helm upgrade --install web podinfo/podinfo -n shop",
        'the verb differs: expected "install", got "upgrade"',
    ),
    (
        "helm install web podinfo/podinfo -n shop",
        "helm install api podinfo/podinfo -n shop",
        'the release differs: expected "web", got "api"',
    ),
    (
        "helm rollback web 2 -n shop",
        "helm rollback web 3 -n shop",
        'the revision differs: expected "2", got "3"',
    ),
    ("kubectl get pods", "kubectl get pods 'web", "a quotation mark is not closed"),
    ("kubectl get pods", "kubectl", 'the verb differs: expected "get", got no verb'),
    ("kubectl get pods", "kubectl get pods |", "empty part next to |"),
    ("kubectl get pods", "", "the command is empty"),
]


@pytest.mark.parametrize(("accepted", "given"), EQUIVALENT)
def test_equivalent_spellings_are_accepted(accepted, given):
    verdict = compare(given, [accepted])
    assert verdict.correct, verdict.feedback
    assert verdict.matched == accepted


@pytest.mark.parametrize(("accepted", "given", "fragment"), DIFFERENT)
def test_different_commands_are_refused_with_the_differing_part(accepted, given, fragment):
    verdict = compare(given, [accepted])
    assert not verdict.correct
    assert verdict.matched is None
    assert any(fragment in line for line in verdict.feedback), verdict.feedback


def test_the_tables_are_big_enough():
    assert len(EQUIVALENT) >= 60 and len(DIFFERENT) >= 40


def test_feedback_comes_from_the_closest_accepted_command():
    accepted = [
        "kubectl scale deployment web-canary --replicas=0",
        "kubectl delete deployment web-canary",
    ]
    scaled = compare("k scale deploy web-canary --replicas=1", accepted)
    assert scaled.closest == accepted[0]
    assert scaled.feedback == ['the value of --replicas differs: expected "0", got "1"']
    deleted = compare("k delete deploy web", accepted)
    assert deleted.closest == accepted[1]
    assert deleted.feedback == ['the name differs: expected "web-canary", got "web"']
    assert compare("kubectl delete deploy/web-canary", accepted).matched == accepted[1]


def test_a_bare_dry_run_is_accepted_with_a_note():
    verdict = compare(
        "k run web --image=nginx --dry-run -o yaml",
        ["kubectl run web --image=nginx --dry-run=client -o yaml"],
    )
    assert verdict.correct
    assert verdict.feedback == ["--dry-run alone is deprecated; write --dry-run=client"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kubectl get pods 'web", "a quotation mark is not closed"),
        ('kubectl get pods -l "app=web', "a quotation mark is not closed"),
        ("kubectl get pods \\", "lone backslash"),
        ("", "the command is empty"),
        ("   \n ", "the command is empty"),
        ("x" * (MAX_COMMAND_LENGTH + 1), "too long"),
        ("kubectl get pods >", "needs a file name"),
        ("| kubectl get pods", "empty part"),
        ("kubectl get pods ;; kubectl get svc", "unexpected"),
    ],
)
def test_unparseable_input_raises_validation_failed(text, message):
    with pytest.raises(ValidationFailed) as caught:
        parse(text)
    assert message in caught.value.detail
    assert caught.value.errors == {"answer": [caught.value.detail]}


@pytest.mark.parametrize("given", [None, 42, ["kubectl", "get", "pods"], "x" * 5000, "k get 'po"])
def test_compare_never_raises_for_learner_input(given):
    verdict = compare(given, ["kubectl get pods"])
    assert not verdict.correct and verdict.feedback


def test_an_accepted_command_that_does_not_parse_is_a_content_error():
    with pytest.raises(ValueError, match="does not parse"):
        compare("kubectl get pods", ["kubectl get 'pods"])
    with pytest.raises(ValueError):
        compare("kubectl get pods", [])


def test_parse_exposes_the_canonical_parts():
    parsed = parse("k -n shop get deploy/web -oyaml")
    assert parsed.program == "kubectl"
    assert parsed.verb == ("get",)
    assert [str(r) for r in parsed.resources] == ["deployments/web"]
    assert parsed.flags == {"namespace": ("shop",), "output": ("yaml",)}
    created = parse("kubectl create secret generic db --from-literal=a=b -- ignored")
    assert created.verb == ("create", "secret", "generic")
    assert created.args == ("db",)
    assert created.command == ("ignored",)
    piped = parse("kubectl kustomize overlays/dev | kubectl apply -f -")
    assert piped.joiners == ("|",) and [p.verb for p in piped.parts] == [("kustomize",), ("apply",)]
    assert parse("helm repo add bitnami https://charts.bitnami.com/bitnami/").verb == (
        "repo",
        "add",
    )


@pytest.mark.parametrize(
    ("token", "canonical"),
    [
        ("po", ("pods", None)),
        ("Deployment", ("deployments", None)),
        ("deployments.apps", ("deployments", None)),
        ("deployments.v1.apps", ("deployments", None)),
        ("netpol", ("networkpolicies", None)),
        ("ingress.networking.k8s.io", ("ingresses", None)),
        ("limits", ("limitranges", None)),
        ("quota", ("resourcequotas", None)),
        ("backups.stable.example.com", ("backup", "stable.example.com")),
        ("deployments.extensions", ("deployment", "extensions")),
    ],
)
def test_resource_types_resolve(token, canonical):
    assert resolve_type(token) == canonical
