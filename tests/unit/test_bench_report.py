"""The benchmark's target lines: each target with its endpoint's floor, when measured."""

from __future__ import annotations

from bench import report


def _row(name, ratio, target=None, floor_of=None):
    return {
        "scenario": name,
        "ratio_to_bare": ratio,
        "cpu_ratio_to_bare": ratio,
        "target_ratio": target,
        "target_rps": None,
        "requests_per_s": 100.0,
        "cpu_ms_per_request": 1.0,
        "floor_of": floor_of,
    }


def test_a_target_above_its_floor_is_named_as_such():
    lines, verdicts = report.target_lines(
        [_row("due", 0.2, target=0.5), _row("floor-due", 0.37, floor_of="due")]
    )
    assert verdicts == {"due": False}  # the floor is reported, never a verdict of its own
    assert "0.37 of bare" in lines[2] and "floor-due" in lines[2]
    assert "target is above" in lines[2]


def test_a_target_under_its_floor_is_only_reported():
    lines, verdicts = report.target_lines(
        [_row("answer", 0.13, target=0.3), _row("floor-answer", 0.44, floor_of="answer")]
    )
    assert verdicts == {"answer": False}
    assert "0.44 of bare" in lines[2] and "target is above" not in lines[2]


def test_no_floor_line_without_a_floor():
    lines, verdicts = report.target_lines([_row("chapter", 0.61, target=0.6)])
    assert verdicts == {"chapter": True}
    assert len(lines) == 2
