"""Command line: `flask db ...`, `flask content ...`, `flask learner ...`, `flask slack ...`."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click
import flask
from flask.cli import AppGroup

from .adapters.schema import alembic_config
from .domain import content_rules
from .domain.errors import DomainError
from .services.content import ContentProblems


def _services():
    return flask.current_app.extensions["ckad"]


db_cli = AppGroup("db", help="Database schema migrations (Alembic).")
content_cli = AppGroup("content", help="Check and load the course content.")
learner_cli = AppGroup("learner", help="Manage learner accounts.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    command.upgrade(alembic_config(_services().settings.database_url), revision)


@db_cli.command("downgrade")
@click.argument("revision", default="base")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (default: base, an empty database)."""
    from alembic import command

    command.downgrade(alembic_config(_services().settings.database_url), revision)


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    from alembic import command

    command.current(alembic_config(_services().settings.database_url))


def _print_coverage(report) -> None:
    course = report.course
    click.echo(f"{'competency':44} {'sections':>8} {'questions':>9}  by type")
    for cid, row in report.coverage.items():
        by_type = ", ".join(f"{t} {n}" for t, n in sorted(row["questions"].items())) or "-"
        total = sum(row["questions"].values())
        click.echo(f"{cid:44} {row['sections']:>8} {total:>9}  {by_type}")
    chapters = len(course.chapters)
    sections = sum(len(c.sections) for c in course.chapters)
    questions = sum(len(c.questions) for c in course.chapters)
    types = Counter(q.type for c in course.chapters for q in c.questions)
    click.echo(f"{chapters} chapters, {sections} sections, {questions} questions")
    click.echo("questions by type: " + ", ".join(f"{t} {n}" for t, n in sorted(types.items())))


@content_cli.command("check")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="Content folder (default: CKAD_CONTENT_DIR or ./content).",
)
@click.option(
    "--partial",
    is_flag=True,
    help="Skip the course-wide minimums (for a course still being written).",
)
def content_check(directory: Path | None, partial: bool) -> None:
    """Validate every content file; print coverage; exit 1 on any problem or shortfall."""
    services = _services()
    report = services.content.check(directory or services.settings.content_dir)
    for line in report.problems:
        click.echo(line, err=True)
    if report.problems:
        click.echo(f"{len(report.problems)} problem(s); nothing would load", err=True)
        sys.exit(1)
    _print_coverage(report)
    short = [] if partial else content_rules.minimum_problems(report.course)
    for line in short:
        click.echo(f"below minimum: {line}", err=True)
    if short:
        sys.exit(1)
    click.echo("content OK")


@content_cli.command("load")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="Content folder (default: CKAD_CONTENT_DIR or ./content).",
)
def content_load(directory: Path | None) -> None:
    """Load the content in one transaction: upsert by id, retire removed questions."""
    services = _services()
    try:
        counts = services.content.load(directory or services.settings.content_dir)
    except ContentProblems as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        click.echo(f"{len(exc.problems)} problem(s); nothing was loaded", err=True)
        sys.exit(1)
    click.echo(
        f"loaded {counts['chapters']} chapters, {counts['sections']} sections, "
        f"{counts['questions']} questions ({counts['new_questions']} new, "
        f"{counts['retired_questions']} retired)"
    )


@learner_cli.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--email", default=None)
@click.password_option(
    envvar="CKAD_NEW_PASSWORD", help="Asked for when not given (or set CKAD_NEW_PASSWORD)."
)
def learner_create(username: str, admin: bool, email: str | None, password: str) -> None:
    """Create a learner (or, with --admin, an admin) account."""
    try:
        learner, _ = _services().accounts.register(
            username, password, email, role="admin" if admin else "learner"
        )
    except DomainError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        for field, messages in (exc.errors or {}).items():
            click.echo(f"  {field}: {'; '.join(messages)}", err=True)
        sys.exit(1)
    click.echo(f"created {learner.role} {learner.username} (id {learner.id})")


lab_cli = AppGroup("lab", help="Verify labs, for course authors and instructors.")


@lab_cli.command("verify")
@click.argument("lab_id")
@click.option(
    "--manifests",
    "manifests_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML file of manifests to grade.",
)
@click.option("--namespace", help="A namespace to read from the cluster.")
@click.option(
    "--kubeconfig",
    type=click.Path(exists=True, dir_okay=False),
    help="Kubeconfig for --namespace (default: CKAD_KUBECONFIG or in-cluster).",
)
@click.option("--context", help="A context of the kubeconfig.")
def lab_verify(
    lab_id: str,
    manifests_file: Path | None,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
) -> None:
    """Grade manifests or a namespace against LAB_ID's rubric; exit 1 unless it passes."""
    if (manifests_file is None) == (namespace is None):
        raise click.UsageError("give exactly one of --manifests FILE or --namespace NS")
    services = _services()
    reader = None
    try:
        if namespace is not None and kubeconfig:
            from .adapters.kube import ClusterReader

            reader = ClusterReader(kubeconfig, context, timeout=services.settings.kube_timeout)
        result = services.labs.evaluate(
            lab_id,
            manifests=manifests_file.read_text(encoding="utf-8") if manifests_file else None,
            namespace=namespace,
            reader=reader,
        )
    except DomainError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(2)
    finally:
        if reader is not None:
            reader.close()
    width = max(len(c["id"]) for c in result["checks"])
    for check in result["checks"]:
        click.echo(f"{check['id']:<{width}}  {check['status']:<7}  {check['title']}")
        if check["status"] == "failed":
            click.echo(f"{'':<{width}}           {check['message']}")
    for warning in result["warnings"]:
        click.echo(f"warning: {warning}")
    click.echo(f"score {result['score']}  {'PASSED' if result['passed'] else 'NOT PASSED'}")
    sys.exit(0 if result["passed"] else 1)


slack_cli = AppGroup("slack", help="The Slack app.")


@slack_cli.command("remind")
@click.option(
    "--window",
    type=click.IntRange(1, 24 * 60),
    default=180,
    show_default=True,
    help="Minutes after a learner's chosen time in which a run still sends the reminder.",
)
def slack_remind(window: int) -> None:
    """Send the daily reminders due now; run it every few minutes (a CronJob).

    Each learner gets at most one reminder a local day, even when runs overlap.
    """
    import datetime as dt

    from .slack import reminders, slack_app

    bolt = slack_app(flask.current_app)
    if bolt is None:
        click.echo(
            "error: Slack is not configured (CKAD_SLACK_SIGNING_SECRET, CKAD_SLACK_BOT_TOKEN)",
            err=True,
        )
        sys.exit(2)
    counts = _services().slack.remind(
        reminders.sender(bolt.client),
        window=dt.timedelta(minutes=window),
        retryable=reminders.NOT_SENT,
    )
    click.echo(
        f"sent {counts['sent']}, nothing due {counts['skipped']}, failed {counts['failed']}, "
        f"already done today {counts['already']}"
    )
    if counts["failed"] and not counts["sent"]:
        sys.exit(1)


data_cli = AppGroup("data", help="Move learners' data between databases.")


@data_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def data_export(file: Path) -> None:
    """Write every learner, card, review, attempt and conversation to FILE (JSON lines)."""
    from .adapters.data_transfer import export_data

    with file.open("w", encoding="utf-8") as out:
        totals = export_data(_services().engine, out)
    for table, figures in totals.items():
        click.echo(f"{table:24} {figures['rows']:>8} rows  sha256 {figures['sha256'][:16]}")


@data_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def data_import(file: Path) -> None:
    """Load FILE into this (migrated, content-loaded, learner-empty) database; verify it."""
    from .adapters.data_transfer import TransferError, import_data

    try:
        with file.open(encoding="utf-8") as source:
            totals = import_data(_services().engine, source)
    except TransferError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for table, figures in totals.items():
        click.echo(f"{table:24} {figures['rows']:>8} rows  checksum verified")


def register(app: flask.Flask) -> None:
    """Attach the command groups to `app`."""
    for group in (db_cli, content_cli, learner_cli, lab_cli, slack_cli, data_cli):
        app.cli.add_command(group)
