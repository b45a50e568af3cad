"""Master batch records on SQLite and PostgreSQL: versions whose content never changes, the
two-person approval (author signs, someone else approves), and bad content refused by path."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from ebr.audit.bundle import verify_database
from ebr.errors import NotFoundError
from ebr.recipes.content import content_sha256, parse_content
from ebr.recipes.errors import RecipeError
from ebr.recipes.models import RecipeRow, RecipeVersionRow
from ebr.users import PermissionDeniedError
from tests.ebr.audit.audit_users import OWN
from tests.ebr.recipe_fixtures import AMOX_CONTENT, RecipeSite, content


@pytest.fixture
def site(engine: Engine) -> RecipeSite:
    return RecipeSite(engine)


def test_versions_are_drafted_approved_by_two_people_and_never_changed_by_edits(
    site: RecipeSite,
) -> None:
    draft = site.draft()
    assert (draft.version, draft.status, draft.author, draft.based_on) == (1, "draft", "rita", None)
    stored = draft.content.to_dict()
    assert stored["parameters"][0]["high"] == "200.5", "decimals kept as decimal text"
    canonical = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert draft.content_sha256 == hashlib.sha256(canonical.encode()).hexdigest()

    approved = site.approve("amox-pack", 1)

    assert (approved.status, approved.approved_by) == ("approved", "quinn")
    assert approved.content_sha256 == draft.content_sha256
    signatures = site.recipes.signatures("amox-pack", 1)
    assert [(s.username, s.meaning) for s in signatures] == [
        ("rita", "authored"),
        ("quinn", "approved"),
    ]
    assert site.recipes.approval_verified("amox-pack", 1)
    assert site.events("recipe_version.approved") == ["amox-pack/v1"]
    assert verify_database(site.trail.engine).ok

    first = approved
    rita = site.login("rita")
    with pytest.raises(RecipeError, match="a reason is needed"):
        site.recipes.edit(rita, "amox-pack", content(reconciliation_tolerance=1), reason=" ")
    with pytest.raises(RecipeError, match="the same as recipe 'amox-pack' version 1"):
        site.recipes.edit(rita, "amox-pack", AMOX_CONTENT, reason="no change")
    second = site.recipes.edit(
        rita, "amox-pack", content(reconciliation_tolerance=2), reason="allow 2 units"
    )
    assert (second.version, second.based_on, second.status) == (2, 1, "draft")
    unchanged = site.recipes.version("amox-pack", 1)
    assert (unchanged.status, unchanged.content_sha256) == ("approved", first.content_sha256)
    third = site.recipes.edit(
        rita, "amox-pack", content(reconciliation_tolerance=3), reason="allow 3 units"
    )
    assert site.recipes.version("amox-pack", 2).status == "superseded", "older draft"

    site.approve("amox-pack", 3, approver="sam")

    statuses = [(v.version, v.status) for v in site.recipes.versions("amox-pack")]
    assert statuses == [(1, "superseded"), (2, "superseded"), (3, "approved")]
    assert site.recipes.version("amox-pack", 1).content_sha256 == first.content_sha256
    edited = site.trail.entries(event="recipe.edited")
    assert [(e.reason, e.old["version"], e.new["version"]) for e in edited] == [
        ("allow 2 units", 1, 2),
        ("allow 3 units", 2, 3),
    ]
    assert third.content.reconciliation_tolerance == 3
    summary = site.recipes.recipes()
    assert [(s.id, s.latest_version, s.approved_version) for s in summary] == [("amox-pack", 3, 3)]


def test_two_people_approve_the_author_signs_first_and_never_approves(site: RecipeSite) -> None:
    sam = site.login("sam")
    site.recipes.create(
        sam, recipe_id="amox-pack", product_id="amox", name="Amox", content=AMOX_CONTENT
    )
    quinn = site.login("quinn")
    with pytest.raises(RecipeError, match="not signed by its author sam yet"):
        site.recipes.approve(quinn, "amox-pack", 1, password=OWN, username="quinn")
    with pytest.raises(PermissionDeniedError, match="quinn is not the author"):
        site.recipes.sign_as_author(quinn, "amox-pack", 1, password=OWN, username="quinn")
    sam = site.recipes.sign_as_author(sam, "amox-pack", 1, password=OWN, username="sam")
    with pytest.raises(RecipeError, match="signed by its author already"):
        site.recipes.sign_as_author(sam, "amox-pack", 1, password=OWN)
    with pytest.raises(PermissionDeniedError, match="cannot also approve it") as refused:
        site.recipes.approve(sam, "amox-pack", 1, password=OWN)
    assert refused.value.hint is not None
    assert "two-person rule" in refused.value.hint
    with pytest.raises(PermissionDeniedError, match=r"olga \(operator\) cannot approve"):
        site.recipes.approve(site.login("olga"), "amox-pack", 1, password=OWN, username="olga")
    assert site.recipes.version("amox-pack", 1).status == "draft"
    assert [s.meaning for s in site.recipes.signatures("amox-pack", 1)] == ["authored"]
    refusals = site.trail.entries(event="recipe_version.approval_refused")
    assert [(e.username, e.new["why"]) for e in refusals] == [
        ("sam", "the author may not approve their own version"),
        ("olga", "the operator role may not approve"),
    ]

    _, approved = site.recipes.approve(quinn, "amox-pack", 1, password=OWN, username="quinn")

    assert approved.status == "approved"
    assert [s.username for s in site.recipes.signatures("amox-pack", 1)] == ["sam", "quinn"]


def test_what_recipes_and_the_database_refuse(site: RecipeSite) -> None:
    with pytest.raises(PermissionDeniedError, match=r"olga \(operator\) cannot write recipes"):
        site.recipes.create(
            site.login("olga"), recipe_id="r", product_id="amox", name="x", content=AMOX_CONTENT
        )
    rita = site.login("rita")
    case = {"level": "case", "quantity": 20, "coding_rule": "sscc"}
    for recipe_id, product, name, body, error, words in (
        ("bad id!", "amox", "x", AMOX_CONTENT, RecipeError, "recipe id 'bad id!' is not valid"),
        ("r", "aspirin", "x", AMOX_CONTENT, NotFoundError, "unknown product 'aspirin'"),
        ("r", "amox", "", AMOX_CONTENT, RecipeError, "recipe name"),
        ("r", "amox", "x", content(lines=["line-9"]), RecipeError, "not a line of this site"),
        ("r", "amox", "x", content(levels=[UNIT]), RecipeError, "leave out case"),
        (
            "r",
            "amox",
            "x",
            content(levels=[{**UNIT, "coding_rule": "gs1-ff1"}, case]),
            RecipeError,
            "codes product 'amox' level unit with rule 'gs1-csprng'",
        ),
        (
            "r",
            "amox",
            "x",
            content(levels=[UNIT, {**case, "quantity": 24}]),
            RecipeError,
            "quantity 20; the recipe says rule 'sscc', quantity 24",
        ),
    ):
        with pytest.raises(error, match=words) as refused:
            site.recipes.create(
                rita, recipe_id=recipe_id, product_id=product, name=name, content=body
            )
        assert refused.value.hint
    with site.trail.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RecipeRow)).scalar_one() == 0

    site.approved_recipe()
    with pytest.raises(RecipeError, match="exists already"):
        site.draft()
    with pytest.raises(RecipeError, match="has a recipe already"):
        site.draft(recipe_id="amox-2")
    with pytest.raises(NotFoundError, match="unknown recipe 'nope'"):
        site.recipes.version("nope")
    with pytest.raises(NotFoundError, match="has no version 7"):
        site.recipes.version("amox-pack", 7)
    quinn = site.login("quinn")
    with pytest.raises(RecipeError, match="is approved, not a draft"):
        site.recipes.approve(quinn, "amox-pack", 1, password=OWN, username="quinn")
    site.recipes.edit(rita, "amox-pack", content(reconciliation_tolerance=1), reason="r")
    site.recipes.edit(rita, "amox-pack", content(reconciliation_tolerance=2), reason="r")
    with pytest.raises(RecipeError, match="version 2 is superseded"):
        site.recipes.approve(quinn, "amox-pack", 2, password=OWN)
    with pytest.raises(PermissionDeniedError, match="cannot retire"):
        site.recipes.retire(rita, "amox-pack", reason="obsolete")
    retired = site.recipes.retire(quinn, "amox-pack", reason="format withdrawn")
    assert (retired.version, retired.status) == (1, "retired")
    with pytest.raises(RecipeError, match="no approved version to retire"):
        site.recipes.retire(quinn, "amox-pack", reason="again")
    with pytest.raises(RecipeError, match="a reason is needed"):
        site.recipes.retire(quinn, "amox-pack", reason="")
    assert [e.reason for e in site.trail.entries(event="recipe_version.retired")] == [
        "format withdrawn"
    ]
    kept = site.recipes.version("amox-pack", 1)
    engine = site.trail.engine
    table = RecipeVersionRow
    for statement in (
        update(table).values(content={"levels": []}),
        update(table).values(content_sha256="0" * 64),
        delete(table),
        delete(RecipeRow),
        update(RecipeRow).values(name="renamed"),
    ):
        with pytest.raises(DBAPIError, match="tracegate"), engine.begin() as conn:
            conn.execute(statement)
    with engine.begin() as conn:
        conn.execute(update(table).values(status="retired"))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="tracegate"), engine.begin() as conn:
            conn.execute(text("TRUNCATE recipe_versions CASCADE"))
    assert site.recipes.version("amox-pack", 1).content_sha256 == kept.content_sha256


UNIT = {"level": "unit", "coding_rule": "gs1-csprng"}
BAD_CONTENT: list[tuple[Any, str, str]] = [
    ([], "content", "must be a JSON object"),
    ({**AMOX_CONTENT, "lines": []}, "lines", "needs 1 to"),
    ({**AMOX_CONTENT, "colour": "red"}, "colour", "not a known field"),
    ({k: v for k, v in AMOX_CONTENT.items() if k != "yield_limits"}, "yield_limits", "missing"),
    (
        content(yield_limits={"low_pct": 101, "high_pct": 99}),
        "yield_limits.low_pct",
        "above high",
    ),
    (
        content(levels=[{"level": "case", "quantity": 20, "coding_rule": "sscc"}]),
        "levels",
        "no unit level",
    ),
    (content(levels=[{**UNIT, "quantity": 5}]), "levels[0].quantity", "holds no quantity"),
    (content(levels=[UNIT, UNIT]), "levels[1]", "repeats 'unit'"),
    (
        content(levels=[{"level": "box", "coding_rule": "sscc"}]),
        "levels[0].level",
        "not a packaging level",
    ),
    (
        content(parameters=[{"name": "t", "tag": "x", "unit": "°C", "low": "hot"}]),
        "parameters[0].low",
        "not a finite decimal",
    ),
    (
        content(parameters=[{"name": "t", "tag": "x", "unit": "°C", "low": float("nan")}]),
        "parameters[0].low",
        "not a finite decimal",
    ),
    (
        content(parameters=[{"name": "t", "tag": "x", "unit": "°C"}]),
        "parameters[0].low",
        "neither low nor high",
    ),
    (
        content(parameters=[{"name": "t", "tag": "", "unit": "°C", "high": 1}]),
        "parameters[0].tag",
        "must be text",
    ),
    (
        content(checks=[{"name": "c", "interval_minutes": 0}]),
        "checks[0].interval_minutes",
        "at least 1",
    ),
    (
        content(
            checks=[{"name": "c", "interval_minutes": 5}, {"name": "c", "interval_minutes": 9}]
        ),
        "checks[1]",
        "repeats 'c'",
    ),
    (content(reconciliation_tolerance=True), "reconciliation_tolerance", "whole number"),
    (
        content(materials=[{**AMOX_CONTENT["materials"][0], "issue_per_unit": 0}]),
        "materials[0].issue_per_unit",
        "more than 0",
    ),
    (content(clearance_checklist="sweep"), "clearance_checklist", "must be a list"),
]


@pytest.mark.parametrize(("bad", "field", "words"), BAD_CONTENT)
def test_bad_content_is_refused_by_its_path(bad: Any, field: str, words: str) -> None:
    with pytest.raises(RecipeError, match=words) as refused:
        parse_content(bad)
    assert refused.value.field == field
    assert refused.value.hint


def test_content_reads_back_as_it_was_written() -> None:
    parsed = parse_content(AMOX_CONTENT)
    assert parse_content(parsed.to_dict()) == parsed
    assert parsed.materials[0].issue_quantity(1000) == Decimal(1050)
    assert [p.low for p in parsed.parameters] == [Decimal(180)]
    assert parsed.to_dict()["yield_limits"] == {"low_pct": "98", "high_pct": "100"}
    assert content_sha256(parsed.to_dict()) == parsed.sha256()
