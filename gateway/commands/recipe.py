"""`tracegate recipe list | show | create | edit | sign | approve | retire`: master batch
records (packaging recipes) and their two-person approval (docs/ebr.md).

Content is a JSON file (the fields of `ebr.recipes.content`). Every edit makes a new draft
version; the author signs it (`sign`) and QA or a supervisor who is not the author approves it
(`approve`). The user's password is read from TRACEGATE_USER_PASSWORD, or asked for.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebr.recipes.master import Recipes
from ebr.recipes.stored import RecipeVersion
from ebr.users import Session, UserError, Users
from gateway.commands.common import fail, load_config
from gateway.site_store import SiteStore, open_site_store

PASSWORD_ENV = "TRACEGATE_USER_PASSWORD"  # noqa: S105 - the variable's name, not a secret


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "recipe",
        help="packaging recipes (master batch records): versions and their approval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="recipe_command", required=True)

    listing = sub.add_parser("list", help="every recipe with its latest and approved version")
    _site(listing)
    listing.set_defaults(run=run_list)

    show = sub.add_parser("show", help="one version with its content and signatures")
    _site(show)
    _recipe(show)
    show.add_argument("--version", type=int, help="default: the latest")
    show.set_defaults(run=run_show)

    create = sub.add_parser("create", help="a product's recipe with its first draft")
    _site(create, user=True)
    _recipe(create)
    create.add_argument("--product", required=True, help="a product id of the site file")
    create.add_argument("--name", required=True, help="the recipe's name")
    create.add_argument("--content", type=Path, required=True, help="the content, a JSON file")
    create.set_defaults(run=run_create)

    edit = sub.add_parser("edit", help="a new draft version from a JSON file")
    _site(edit, user=True)
    _recipe(edit)
    edit.add_argument("--content", type=Path, required=True, help="the content, a JSON file")
    edit.add_argument("--reason", required=True, help="why the recipe changes")
    edit.set_defaults(run=run_edit)

    for name, help_text, run in (
        ("sign", "the author signs a draft (meaning: authored)", run_sign),
        ("approve", "QA or a supervisor approves a signed draft (not its author)", run_approve),
    ):
        signing = sub.add_parser(name, help=help_text)
        _site(signing, user=True)
        _recipe(signing)
        signing.add_argument("--version", type=int, required=True)
        signing.set_defaults(run=run)

    retire = sub.add_parser("retire", help="withdraw the approved version (QA or supervisor)")
    _site(retire, user=True)
    _recipe(retire)
    retire.add_argument("--reason", required=True, help="why it is withdrawn")
    retire.set_defaults(run=run_retire)


def run_list(args: argparse.Namespace) -> int:
    def listing(recipes: Recipes, _user: SignedIn | None) -> None:
        summaries = recipes.recipes()
        if not summaries:
            print("no recipes yet")
        for item in summaries:
            approved = "none" if item.approved_version is None else f"v{item.approved_version}"
            print(
                f"{item.id:<24} {item.product_id:<20} latest v{item.latest_version} "
                f"({item.latest_status}), approved {approved}  {item.name}"
            )

    return _with_recipes(args, listing)


def run_show(args: argparse.Namespace) -> int:
    def show(recipes: Recipes, _user: SignedIn | None) -> None:
        version = recipes.version(args.recipe, args.version)
        _print_version(version)
        for signature in recipes.signatures(version.recipe_id, version.version):
            print(
                f"  signed: {signature.printed_name} ({signature.username}), "
                f"{signature.meaning}, {signature.signed_at}"
            )
        print(json.dumps(version.content.to_dict(), indent=2, ensure_ascii=False))

    return _with_recipes(args, show)


def run_create(args: argparse.Namespace) -> int:
    content = read_content(args.content)

    def create(recipes: Recipes, user: SignedIn | None) -> None:
        assert user is not None
        version = recipes.create(
            user.session,
            recipe_id=args.recipe,
            product_id=args.product,
            name=args.name,
            content=content,
        )
        _print_version(version)

    return _with_recipes(args, create)


def run_edit(args: argparse.Namespace) -> int:
    content = read_content(args.content)

    def edit(recipes: Recipes, user: SignedIn | None) -> None:
        assert user is not None
        _print_version(recipes.edit(user.session, args.recipe, content, reason=args.reason))

    return _with_recipes(args, edit)


def run_sign(args: argparse.Namespace) -> int:
    def sign(recipes: Recipes, user: SignedIn | None) -> None:
        assert user is not None
        recipes.sign_as_author(
            user.session,
            args.recipe,
            args.version,
            password=user.password,
            username=user.username,
        )
        print(f"signed recipe {args.recipe} v{args.version} as its author ({args.user})")

    return _with_recipes(args, sign)


def run_approve(args: argparse.Namespace) -> int:
    def approve(recipes: Recipes, user: SignedIn | None) -> None:
        assert user is not None
        _, version = recipes.approve(
            user.session,
            args.recipe,
            args.version,
            password=user.password,
            username=user.username,
        )
        _print_version(version)

    return _with_recipes(args, approve)


def run_retire(args: argparse.Namespace) -> int:
    def retire(recipes: Recipes, user: SignedIn | None) -> None:
        assert user is not None
        _print_version(recipes.retire(user.session, args.recipe, reason=args.reason))

    return _with_recipes(args, retire)


def read_content(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file", hint="give the recipe content as a JSON file")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {error}", hint="save the content as UTF-8 JSON")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        fail(
            f"{path}: not JSON ({error.msg} at line {error.lineno} column {error.colno})",
            hint="the content is one JSON object",
        )
    if not isinstance(value, dict):
        fail(f"{path}: the content must be a JSON object", hint="wrap the fields in { }")
    return value


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A user logged in for one command, with the password given (a signature asks for it
    again, with the user ID: the first signature of a session needs both)."""

    session: Session
    username: str
    password: str


def login_user(users: Users, username: str) -> SignedIn:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"password for {username}: ")
    try:
        return SignedIn(users.login(username, password), username, password)
    except UserError as error:
        fail(f"{username!r} cannot log in: {error.message}", hint=error.hint)


def _with_recipes(
    args: argparse.Namespace, work: Callable[[Recipes, SignedIn | None], None]
) -> int:
    config = load_config(args.config)
    store: SiteStore = open_site_store(config)
    try:
        users = Users(store.audit)
        user = login_user(users, args.user) if getattr(args, "user", None) else None
        try:
            work(Recipes(users, store.audit), user)
        finally:
            if user is not None:
                users.logout(user.session)
    finally:
        store.close()
    return 0


def _print_version(version: RecipeVersion) -> None:
    approved = f", approved by {version.approved_by}" if version.approved_by is not None else ""
    print(
        f"recipe {version.recipe_id} v{version.version} ({version.status}) for product "
        f"{version.product_id}: {version.name}; written by {version.author}{approved}"
    )
    print(f"  content sha256: {version.content_sha256}")


def _site(parser: argparse.ArgumentParser, *, user: bool = False) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the site file")
    if user:
        parser.add_argument("--user", required=True, help="your user name")


def _recipe(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", required=True, help="the recipe id")
