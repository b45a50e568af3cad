"""The database answers and its schema is this version's (read only: nothing is migrated)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ebr.db import make_engine
from ebr.schema import current_revision, head_revision
from gateway.doctor.context import DoctorContext
from gateway.doctor.verdict import Status, Verdict

ITEM = "database"
CONNECT_TIMEOUT_S = 5


def database_location(url: str) -> str:
    """The URL without its password, to print."""
    return make_url(url).render_as_string(hide_password=True)


def check_database(context: DoctorContext) -> Verdict:
    config = context.config
    if config is None:
        return Verdict(ITEM, Status.SKIP, "not checked: the site file does not load")
    url = config.database_url
    where = database_location(url)
    upgrade_hint = (
        f"back up the database, then run `tracegate db upgrade --config {context.config_path}`"
    )
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return Verdict(
            ITEM, Status.FAIL, "the SQLite database file does not exist", where, upgrade_hint
        )
    engine = _engine(url)
    try:
        current = current_revision(engine)
        head = head_revision(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        return Verdict(
            ITEM,
            Status.FAIL,
            f"the database does not answer: {_first_line(error)}",
            where,
            "check database.url in the site file, that the server runs and accepts this user",
        )
    if current is None:
        engine.dispose()
        return Verdict(
            ITEM, Status.FAIL, "the database has no tracegate schema", where, upgrade_hint
        )
    context.engine = engine
    if current == head:
        return Verdict(ITEM, Status.OK, f"reachable, schema at the latest revision {head}", where)
    return Verdict(
        ITEM,
        Status.WARN,
        f"schema at revision {current}, this version's latest is {head} (the gateway migrates "
        "at its next start; a revision newer than this version's means the software is older "
        "than the database)",
        where,
        upgrade_hint,
    )


def _engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "postgresql":
        return make_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    return make_engine(url)


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
