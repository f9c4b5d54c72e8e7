"""The load generator: make sure `wrk` is installed, run it, parse its JSON line."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .config import ANSWERS_PATH, WRK_SCRIPT, BenchConfig
from .scenarios import Scenario

APT_TIMEOUT = 600  # seconds for each apt-get step
INSTALL_HINT = "install it with: sudo apt-get update && sudo apt-get install -y wrk"
MARKER = "BENCH_JSON "


class LoadGenError(RuntimeError):
    """wrk is missing, failed, or printed no result."""


@dataclasses.dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured (latencies in milliseconds)."""

    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int
    unexpected_status: int
    conflicts: int  # answer mode: 409s (stale versions), not counted as unexpected
    raw: dict[str, Any]

    @property
    def errors(self) -> int:
        """Every failed or wrong answer: HTTP >= 400, socket errors, unexpected statuses.

        An answer mode's 409s are counted apart (`conflicts`), though wrk counts them too.
        """
        # A 4xx/5xx is also an unexpected status: count it once.
        http = max(self.non_2xx_3xx - self.conflicts, self.unexpected_status)
        return http + self.socket_errors


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=APT_TIMEOUT,
        check=False,
    )


def ensure_wrk() -> str:
    """The path of `wrk`, installed from Debian's packages first if missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise LoadGenError(f"wrk is not installed and this is not root; {INSTALL_HINT}")
    if shutil.which("apt-get") is None:
        raise LoadGenError("wrk is not installed and there is no apt-get to install it")
    print("wrk is not installed: apt-get install -y wrk", flush=True)
    installed = _apt_get("install", "-y", "wrk")
    if installed.returncode != 0:
        # A fresh machine may have empty or stale package lists; refresh once and retry.
        print("  apt-get install failed; apt-get update, then again", flush=True)
        updated = _apt_get("update")
        if updated.returncode != 0:
            raise LoadGenError(f"apt-get update failed:\n{updated.stderr.strip()[-2000:]}")
        installed = _apt_get("install", "-y", "wrk")
    found = shutil.which("wrk")
    if installed.returncode != 0 or not found:
        raise LoadGenError(f"apt-get install -y wrk failed:\n{installed.stderr.strip()[-2000:]}")
    return found


def wrk_version(wrk: str) -> str:
    """wrk's version line (it prints usage with the version on `-v`)."""
    out = subprocess.run(
        [wrk, "-v"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    return out.splitlines()[0].strip() if out else "unknown"


def run_wrk(
    wrk: str,
    scenario: Scenario,
    base_url: str,
    tokens_path: Path,
    config: BenchConfig,
    seconds: int,
) -> WrkResult:
    """Load `base_url` with `scenario` (already rendered) for `seconds`; the measured result."""
    args = [str(tokens_path), str(scenario.expect_status), f"method={scenario.method}"]
    if scenario.answers:
        args += [f"answers={ANSWERS_PATH}", f"threads={config.threads}"]
    elif scenario.requests_file is not None:
        args.append(f"requests={scenario.requests_file}")
    else:
        args += [f"path={p}" for p in scenario.paths]
    if scenario.body_file is not None:
        args.append(f"body={scenario.body_file}")
    if scenario.bodies_file is not None:
        args.append(f"bodies={scenario.bodies_file}")
    args += [f"header={k}: {v}" for k, v in scenario.headers.items()]
    cmd = [
        wrk,
        f"-t{config.threads}",
        f"-c{config.connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(WRK_SCRIPT),
        base_url,
        "--",
        *args,
    ]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired:
        raise LoadGenError(f"{scenario.name}: wrk did not finish within {seconds + 60}s") from None
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)), None)
    if proc.returncode != 0 or line is None:
        raise LoadGenError(
            f"{scenario.name}: wrk exited {proc.returncode} without a result\n"
            f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    raw = json.loads(line[len(MARKER) :])
    return WrkResult(
        requests=raw["requests"],
        requests_per_s=raw["requests_per_s"],
        p50_ms=raw["latency_ms"]["p50"],
        p99_ms=raw["latency_ms"]["p99"],
        non_2xx_3xx=raw["non_2xx_3xx"],
        socket_errors=sum(raw["socket_errors"].values()),
        unexpected_status=raw["unexpected_status"],
        conflicts=raw.get("conflicts", 0),
        raw=raw,
    )
