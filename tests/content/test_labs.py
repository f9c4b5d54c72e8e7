"""Every lab: its solution passes every check, every check has a broken variant that fails
it with a message, and the variants a fair grader must accept pass.

Files per lab, under content/labs/<id>/:
- lab.yaml, solution.yaml (and start.yaml for labs that begin broken);
- live.yaml: a live cluster snapshot of the solved lab (status, Pods, ReplicaSets,
  EndpointSlices...) on which every check, live ones included, passes;
- variants/accept-*.yaml: other correct solutions; every non-live check passes;
- variants/break-<check-id>[-detail].yaml: manifests on which that check fails;
- variants/break-<check-id>[-detail].live.yaml: a live snapshot on which that check fails.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from ckad_api.adapters.content_files import read_content
from ckad_api.domain.manifests import parse_manifests
from ckad_api.domain.rubric import Snapshot, evaluate
from tests.conftest import REAL_CONTENT

LAB_IDS = [
    "probes",
    "sidecar",
    "resources",
    "batch",
    "config",
    "storage",
    "rollout",
    "canary",
    "security",
    "netpol",
    "services",
    "troubleshoot",
]
LABS_DIR = REAL_CONTENT / "labs"


@functools.cache
def labs() -> dict:
    result = read_content(REAL_CONTENT)
    assert result.problems == [], "\n".join(result.problems)
    return {lab.id: lab for lab in result.course.labs}


def snapshot(path: Path) -> Snapshot:
    live = path.name == "live.yaml" or path.name.endswith(".live.yaml")
    source = "cluster" if live else "manifests"
    objects = parse_manifests(path.read_text()).objects
    return Snapshot(objects=tuple(objects), source=source)


def statuses(lab, path: Path) -> dict[str, tuple[str, str]]:
    result = evaluate(lab.checks, snapshot(path))
    return {c.id: (c.status, c.message) for c in result.checks}


def test_all_twelve_labs_exist():
    assert sorted(labs()) == sorted(LAB_IDS)


def present():
    return [lab_id for lab_id in LAB_IDS if (LABS_DIR / lab_id / "lab.yaml").exists()]


@pytest.mark.parametrize("lab_id", present())
def test_solution_passes_every_check_it_can_see(lab_id):
    lab = labs()[lab_id]
    result = statuses(lab, LABS_DIR / lab_id / "solution.yaml")
    for check in lab.checks:
        status, message = result[check.id]
        expected = "skipped" if check.live else "passed"
        assert status == expected, f"{lab_id}/{check.id}: {status}: {message}"


@pytest.mark.parametrize("lab_id", present())
def test_live_snapshot_of_the_solution_passes_every_check(lab_id):
    lab = labs()[lab_id]
    live = LABS_DIR / lab_id / "live.yaml"
    assert live.exists(), f"{lab_id}: live.yaml (the solved lab as a cluster shows it) is missing"
    result = statuses(lab, live)
    failed = {k: v for k, v in result.items() if v[0] != "passed"}
    assert failed == {}


@pytest.mark.parametrize("lab_id", present())
def test_every_pod_creating_lab_has_a_live_readiness_check(lab_id):
    lab = labs()[lab_id]
    makes_pods = {"Pod", "Deployment", "Job", "StatefulSet", "DaemonSet", "ReplicaSet"}
    solution = parse_manifests((LABS_DIR / lab_id / "solution.yaml").read_text()).objects
    if any(obj["kind"] in makes_pods for obj in solution):
        assert any(c.live for c in lab.checks), f"{lab_id}: pods are created but no live check"


def variant_cases():
    for lab_id in present():
        for path in sorted((LABS_DIR / lab_id / "variants").glob("*.yaml")):
            yield pytest.param(lab_id, path, id=f"{lab_id}/{path.name}")


@pytest.mark.parametrize("lab_id, path", list(variant_cases()))
def test_variant(lab_id, path):
    lab = labs()[lab_id]
    result = statuses(lab, path)
    name = path.name.removesuffix(".live.yaml").removesuffix(".yaml")
    if name.startswith("accept-"):
        for check in lab.checks:
            status, message = result[check.id]
            if not check.live:
                assert status == "passed", f"fair variant refused by {check.id}: {message}"
        return
    assert name.startswith("break-"), f"variant files are accept-* or break-*: {path.name}"
    check_id = next(
        (
            c.id
            for c in sorted(lab.checks, key=lambda c: -len(c.id))
            if name == f"break-{c.id}" or name.startswith(f"break-{c.id}-")
        ),
        None,
    )
    assert check_id, f"{path.name} names no check of {lab_id}"
    status, message = result[check_id]
    assert status == "failed", f"{check_id} did not fail on {path.name}: {status}"
    assert message and message.lower() != "failed", "a failing check must say why"


@pytest.mark.parametrize("lab_id", present())
def test_every_check_has_a_broken_variant(lab_id):
    lab = labs()[lab_id]
    names = [p.name for p in (LABS_DIR / lab_id / "variants").glob("break-*.yaml")]
    for check in lab.checks:
        suffix = ".live.yaml" if check.live else ".yaml"
        assert any(
            (n == f"break-{check.id}{suffix}" or n.startswith(f"break-{check.id}-"))
            and n.endswith(suffix)
            for n in names
        ), f"{lab_id}: no break-{check.id}*{suffix} variant"


def test_troubleshoot_start_manifest_fails_the_fix_checks():
    if "troubleshoot" not in present():
        pytest.skip("the troubleshoot lab is not written yet")
    lab = labs()["troubleshoot"]
    assert lab.start, "troubleshoot ships a broken start.yaml"
    result = statuses(lab, LABS_DIR / "troubleshoot" / "start.yaml")
    failed = [k for k, (status, _) in result.items() if status == "failed"]
    assert len(failed) >= 3, result
