"""Shared fixtures: databases (SQLite and the real PostgreSQL server) with the schema migrated."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from ebr.db import make_engine
from ebr.schema import upgrade

PG_URL = os.environ.get(
    "TRACEGATE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (checked once per process)."""
    try:
        probe = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
    except OperationalError as error:
        return f"PostgreSQL at {PG_URL} is unreachable: {error.orig}"
    return None


LINE_TIMED_MODULES = frozenset(
    {
        "tests/bench/test_bench_line.py",
        "tests/chaos/test_campaign.py",
        "tests/e2e/test_ebr_review_e2e.py",
        "tests/e2e/test_line_bad_input.py",
        "tests/e2e/test_line_case_camera_e2e.py",
        "tests/e2e/test_line_crash.py",
        "tests/e2e/test_line_e2e.py",
        "tests/gateway/line/test_ebr_feed_line.py",
        "tests/gateway/line/test_line_case_camera.py",
        "tests/gateway/line/test_line_changeover.py",
        "tests/gateway/line/test_line_clearance_signature.py",
        "tests/gateway/line/test_line_journal_failure.py",
        "tests/gateway/line/test_line_mes_publisher.py",
        "tests/gateway/test_demo_line.py",
        "tests/gateway/test_simulation_bench.py",
    }
)
"""Whole simulated lines running at a rate against verdict deadlines: with `--dist loadgroup`
(`make test`) they run one after another on one worker, never two lines competing for the
CPU, while the other workers take the rest of the suite."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("::", 1)[0] in LINE_TIMED_MODULES:
            item.add_marker(pytest.mark.xdist_group("line"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    problem = postgres_unavailable()
    if problem:
        terminalreporter.write_sep("!", "PostgreSQL TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(problem, red=True)


def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{os.fspath(tmp_path)}/tracegate.db"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test process: each test copies it instead of
    running every migration again."""
    path = tmp_path_factory.mktemp("migrated") / "tracegate.db"
    template = make_engine(f"sqlite:///{path}")
    upgrade(template)
    template.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per test process, the template each test's database
    is created from (a copy takes a fraction of running every migration again)."""
    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    name = f"tmpl_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(text(f'CREATE DATABASE "{name}"'))
    template = make_engine(_pg_database_url(name))
    upgrade(template)
    template.dispose()
    try:
        yield name
    finally:
        with _pg_admin() as admin:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def engine(db_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated store on the test's database: SQLite copied from a migrated file, PostgreSQL
    a database of its own created from a migrated template."""
    if db_url.startswith("sqlite"):
        database = make_url(db_url).database
        if database and not Path(database).exists():
            shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
            os.chmod(database, 0o600)
            eng = make_engine(db_url)
        else:
            eng = make_engine(db_url)
            upgrade(eng)
        yield eng
        eng.dispose()
        return
    template = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    eng = make_engine(_pg_database_url(name))
    try:
        yield eng
    finally:
        eng.dispose()
        with _pg_admin() as admin:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _pg_database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def _pg_admin() -> Iterator[Connection]:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            yield conn
    finally:
        admin.dispose()
