"""The results table, the target lines, and `results.json`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from .cpu import CpuUsage
from .loadgen import WrkResult
from .scenarios import Scenario

# Above this share of the CPUs taken by other processes, a scenario's numbers are suspect.
NOISE_SHARE = 0.10


@dataclasses.dataclass(frozen=True)
class Round:
    """One measured run of a scenario."""

    result: WrkResult
    other_cpu: float | None  # share of all CPUs other processes took meanwhile
    cpu_ms_per_request: float | None  # the server's own CPU time per request

    @classmethod
    def of(cls, result: WrkResult, usage: CpuUsage | None, server_pid: int | None) -> Round:
        """Combine wrk's result with the CPU accounting of the same interval."""
        if usage is None or server_pid is None or not result.requests:
            return cls(result, None if usage is None else usage.other_share, None)
        cpu_ms = usage.server_seconds[server_pid] * 1000 / result.requests
        return cls(result, usage.other_share, cpu_ms)

    def as_dict(self) -> dict[str, Any]:
        """The round's headline numbers, JSON-ready."""
        return {
            "requests_per_s": round(self.result.requests_per_s, 1),
            "p50_ms": round(self.result.p50_ms, 2),
            "p99_ms": round(self.result.p99_ms, 2),
            "errors": self.result.errors,
            "conflicts": self.result.conflicts,
            "other_cpu": _round(self.other_cpu, 3),
            "cpu_ms_per_request": _round(self.cpu_ms_per_request, 3),
        }


@dataclasses.dataclass(frozen=True)
class Measurement:
    """A scenario's reported round (the median by requests/s) and all its rounds."""

    scenario: Scenario
    median: Round
    rounds: list[Round]

    @classmethod
    def of(cls, scenario: Scenario, rounds: list[Round]) -> Measurement:
        """Keep the median round by requests/s (the lower one of an even count)."""
        ranked = sorted(rounds, key=lambda r: r.result.requests_per_s)
        return cls(scenario, ranked[(len(ranked) - 1) // 2], rounds)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


COLUMNS = (
    ("scenario", "<", 12),
    ("req/s", ">", 9),
    ("p50 ms", ">", 8),
    ("p99 ms", ">", 8),
    ("non-2xx/3xx", ">", 11),
    ("sock err", ">", 8),
    ("wrong status", ">", 12),
    ("409", ">", 5),
    ("vs bare", ">", 7),
    ("cpu ms/req", ">", 10),
    ("other cpu", ">", 9),
)


def rows(measurements: list[Measurement]) -> list[dict[str, Any]]:
    """One JSON-ready row per scenario, with its ratios to the bare app.

    `ratio_to_bare` compares requests/s (the target's measure); `cpu_ratio_to_bare` compares
    the servers' CPU time per request, bare's over the scenario's, which other work on the
    machine moves less: a second view of the same question when the machine is busy.
    """
    bare = next((m.median for m in measurements if m.scenario.name == "bare"), None)
    out = []
    for m in measurements:
        scenario, median, result = m.scenario, m.median, m.median.result
        ratio = result.requests_per_s / bare.result.requests_per_s if bare else None
        cpu_ratio = (
            bare.cpu_ms_per_request / median.cpu_ms_per_request
            if bare and bare.cpu_ms_per_request and median.cpu_ms_per_request
            else None
        )
        out.append(
            {
                "scenario": scenario.name,
                "description": scenario.description,
                "paths": list(scenario.paths),
                "expect_status": scenario.expect_status,
                "requests": result.requests,
                "requests_per_s": round(result.requests_per_s, 1),
                "p50_ms": round(result.p50_ms, 2),
                "p99_ms": round(result.p99_ms, 2),
                "non_2xx_3xx": result.non_2xx_3xx,
                "socket_errors": result.socket_errors,
                "unexpected_status": result.unexpected_status,
                "conflicts": result.conflicts,
                "ratio_to_bare": _round(ratio, 3),
                "cpu_ms_per_request": _round(median.cpu_ms_per_request, 3),
                "cpu_ratio_to_bare": _round(cpu_ratio, 3),
                "other_cpu": _round(median.other_cpu, 3),
                "method": scenario.method,
                "answers": scenario.answers,
                "counts_conflicts": scenario.counts_conflicts,
                "target_ratio": scenario.target_ratio,
                "target_rps": scenario.target_rps,
                "floor_of": scenario.floor_of,
                "rounds": [r.as_dict() for r in m.rounds],
                "wrk": result.raw,
            }
        )
    return out


def table(table_rows: list[dict[str, Any]]) -> str:
    """The rows as a fixed-width text table."""

    def line(cells: list[str]) -> str:
        return "  ".join(
            f"{c:{align}{width}}" for c, (_, align, width) in zip(cells, COLUMNS, strict=True)
        )

    out = [line([name for name, _, _ in COLUMNS]), line(["-" * w for _, _, w in COLUMNS])]
    for r in table_rows:
        ratio = r["ratio_to_bare"]
        out.append(
            line(
                [
                    r["scenario"],
                    f"{r['requests_per_s']:.1f}",
                    f"{r['p50_ms']:.2f}",
                    f"{r['p99_ms']:.2f}",
                    str(r["non_2xx_3xx"]),
                    str(r["socket_errors"]),
                    str(r["unexpected_status"]),
                    str(r["conflicts"]) if r["counts_conflicts"] else "-",
                    "-" if ratio is None else f"{ratio:.2f}",
                    "-" if r["cpu_ms_per_request"] is None else f"{r['cpu_ms_per_request']:.2f}",
                    "-" if r["other_cpu"] is None else f"{r['other_cpu']:.0%}",
                ]
            )
        )
    return "\n".join(out)


def target_lines(table_rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, bool]]:
    """The target verdicts: printable lines and {scenario: passed}."""
    lines = ["targets:"]
    verdicts = {}
    floors = {r["floor_of"]: r for r in table_rows if r.get("floor_of")}
    for r in table_rows:
        cpu = r["cpu_ratio_to_bare"]
        if r["target_ratio"] is not None and r["ratio_to_bare"] is not None:
            passed = r["ratio_to_bare"] >= r["target_ratio"]
            measured = f"{r['ratio_to_bare']:.2f} of bare"
            target = f">= {r['target_ratio']:.2f}"
            extra = "" if cpu is None else f"   (by CPU time per request: {cpu:.2f})"
        elif r["target_rps"] is not None:
            passed = r["requests_per_s"] >= r["target_rps"]
            measured = f"{r['requests_per_s']:.1f} req/s"
            target = f">= {r['target_rps']:.0f}"
            extra = (
                ""
                if r["cpu_ms_per_request"] is None
                else f"   (server CPU {r['cpu_ms_per_request']:.2f} ms per request)"
            )
        else:
            continue
        verdicts[r["scenario"]] = passed
        lines.append(
            f"  {r['scenario']:<12} {measured:>16} {target:>7}  {'PASS' if passed else 'FAIL'}"
            + extra
        )
        floor = floors.get(r["scenario"])
        if floor is not None and floor["ratio_to_bare"] is not None:
            lines.append(floor_line(floor, r["target_ratio"]))
    return lines, verdicts


def floor_line(floor: dict[str, Any], target: float | None) -> str:
    """What the endpoint's floor (bench/floor.py) reached, and whether the target is above it."""
    ratio = floor["ratio_to_bare"]
    line = f"  {'':<12} {f'{ratio:.2f} of bare':>16}  its floor ({floor['scenario']})"
    if target is not None and ratio < target:
        line += ": the target is above what this stack reaches with no work but the queries"
    return line


def noise_warning(table_rows: list[dict[str, Any]], rounds: int) -> str | None:
    """A warning naming the scenarios during which other processes took much CPU, or None."""
    noisy = [
        f"{r['scenario']} {r['other_cpu']:.0%}"
        for r in table_rows
        if r["other_cpu"] is not None and r["other_cpu"] > NOISE_SHARE
    ]
    if not noisy:
        return None
    return (
        f"WARNING: other processes used more than {NOISE_SHARE:.0%} of the CPUs during: "
        f"{', '.join(noisy)}. Their req/s are low and noisy (CPU time per request less "
        "so); rerun on a quiet machine" + (" or with BENCH_ROUNDS=3." if rounds < 3 else ".")
    )


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write the results document, pretty-printed."""
    path.write_text(json.dumps(document, indent=2) + "\n")
