"""Load benchmark of ckad-tutor: `make bench` (or `python -m bench`).

It builds a database at scale under `bench/out/`, runs the real service and a bare Flask
app under the same gunicorn settings, loads each with `wrk` and prints requests/s and
latency per scenario, with each scenario's throughput as a ratio of the bare app's.

Environment variables (all optional):

- `BENCH_LEARNERS` (1000): learners seeded, each with one access token.
- `BENCH_CARDS` (300): review cards seeded per learner (capped at the course's questions).
- `BENCH_SECONDS` (10): measured duration of each scenario.
- `BENCH_WARMUP_SECONDS` (2): unmeasured load before each scenario (0 disables it).
- `BENCH_THREADS` (1) and `BENCH_CONNECTIONS` (8): wrk's `-t` and `-c`.
- `BENCH_WORKERS` (2): gunicorn sync workers of both servers.
- `BENCH_ROUNDS` (1): rounds of every scenario in turn; each scenario reports its median
  round by requests/s (3 or more smooth out a machine shared with other work).
- `BENCH_SCENARIOS`: comma-separated scenario names to run (default: all; `bare` always runs,
  as every ratio needs it).
- `BENCH_SKIP_SCALING`: `1` skips the due-latency scaling measurement run at the end
  (`python -m bench.due_scaling`, which has its own `BENCH_SCALING_*` variables).
"""
