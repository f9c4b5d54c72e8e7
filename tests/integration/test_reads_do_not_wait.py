"""Reads never wait for SQLite's write lock: a learner's due cards, progress and history
answer while another connection holds the lock (a long write elsewhere)."""

from __future__ import annotations

import sqlite3

import pytest


def test_reads_answer_while_a_writer_holds_the_lock(app, api, client, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock being tested is SQLite's (PostgreSQL readers never wait)")
    headers = api.auth("ada")
    client.post(
        "/api/v1/reviews/basics-probe-traffic/answer",
        headers=headers,
        json={"answer": 1, "version": 0},
    )
    path = database_url.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, timeout=1, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        # A short busy timeout for this test: a read that waits for the lock would fail.
        app.extensions["ckad"].engine.dispose()
        for route in (
            "/api/v1/reviews/due",
            "/api/v1/progress",
            "/api/v1/reviews/history",
            "/api/v1/progress/forecast",
            "/api/v1/labs",
            "/api/v1/chapters",
        ):
            response = client.get(route, headers=headers)
            assert response.status_code == 200, (route, response.get_json())
    finally:
        writer.execute("ROLLBACK")
        writer.close()
