"""`Recipes`: drafting, signing, approving and retiring master batch record versions.

Every edit makes a new draft version; an approved version is never changed. Approval takes two
people (21 CFR 11, seed 003 §6.2.1): the version's author signs it (`Meaning.AUTHORED`) and then
QA or a supervisor who is not the author approves it (`Meaning.APPROVED`), both under the action
`recipe_approval`, both bound to the version's content. Approving a version supersedes the one
approved before; retiring the approved version leaves the product with nothing to produce from
until a new version is approved. Every change is audited in its own transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from sqlalchemy import Connection, insert, select, update

from ebr.audit.actor import Actor
from ebr.audit.chain import sha256_hex
from ebr.audit.records import canonical_record
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.errors import NotFoundError
from ebr.models import Product
from ebr.recipes.content import RecipeContent, parse_content
from ebr.recipes.errors import RecipeError
from ebr.recipes.models import RecipeRow, RecipeVersionRow
from ebr.recipes.signed import VERSION_OBJECT, load_recipe_version, version_object_id
from ebr.recipes.site_match import check_against_site
from ebr.recipes.stored import (
    RecipeSummary,
    RecipeVersion,
    read_summaries,
    read_version,
    read_versions,
)
from ebr.signatures import MEANING_ROLES, ESignatures, Meaning, Requirement, SignatureInfo
from ebr.users import PermissionDeniedError, Role, Session, Users

RECIPE_APPROVAL: Final = "recipe_approval"
AUTHOR_ROLES: Final = frozenset({Role.SUPERVISOR, Role.QA, Role.ENGINEER})
APPROVER_ROLES: Final = MEANING_ROLES[Meaning.APPROVED]
RECIPE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_NAME: Final = 200


class Recipes:
    def __init__(
        self,
        users: Users,
        trail: AuditTrail,
        *,
        signing_blocked: Callable[[], str | None] = lambda: None,
    ) -> None:
        """`users` is the one the sessions were opened with; `signing_blocked` as for
        `ESignatures` (e.g. the clock is out of tolerance)."""
        self._users = users
        self._trail = trail
        self._engine = trail.engine
        self._signatures = ESignatures(
            users,
            trail,
            {RECIPE_APPROVAL: Requirement.DUAL},
            signing_blocked=signing_blocked,
        )

    # --- writing --------------------------------------------------------------------------

    def create(
        self,
        session: Session,
        *,
        recipe_id: str,
        product_id: str,
        name: str,
        content: Mapping[str, Any],
    ) -> RecipeVersion:
        """A product's recipe with its first version, a draft."""
        session = self._author(session)
        _check_identity(recipe_id, name)
        parsed = parse_content(content)
        actor = Actor(session.user_id, session.username)
        now = self._trail.now()
        with self._engine.begin() as conn:
            self._trail.record(conn, [])
            _check_new(conn, recipe_id, product_id)
            check_against_site(conn, product_id, parsed)
            conn.execute(
                insert(RecipeRow).values(
                    id=recipe_id,
                    product_id=product_id,
                    name=name,
                    created_at=now,
                    created_by_user_id=session.user_id,
                    created_by=session.username,
                )
            )
            version = self._insert_version(conn, session, recipe_id, 1, None, parsed)
            self._trail.record(
                conn,
                [
                    actor.event(
                        "recipe.created",
                        "recipe",
                        recipe_id,
                        action="create",
                        new={"product_id": product_id, "name": name},
                    ),
                    actor.event(
                        "recipe_version.created",
                        VERSION_OBJECT,
                        version_object_id(recipe_id, 1),
                        action="create",
                        new=version,
                    ),
                ],
            )
            return read_version(conn, recipe_id, 1)

    def edit(
        self, session: Session, recipe_id: str, content: Mapping[str, Any], *, reason: str
    ) -> RecipeVersion:
        """A new draft version from the latest one; earlier drafts are superseded."""
        session = self._author(session)
        why = _reason(reason)
        parsed = parse_content(content)
        actor = Actor(session.user_id, session.username)
        with self._engine.begin() as conn:
            self._trail.record(conn, [])
            versions = read_versions(conn, recipe_id)
            latest = versions[-1]
            if parsed.to_dict() == latest.content.to_dict():
                raise RecipeError(
                    f"the content is the same as recipe {recipe_id!r} version {latest.version}",
                    hint="change something, or leave the recipe as it is",
                )
            check_against_site(conn, latest.product_id, parsed)
            number = latest.version + 1
            values = self._insert_version(conn, session, recipe_id, number, latest.version, parsed)
            events = [
                actor.event(
                    "recipe.edited",
                    "recipe",
                    recipe_id,
                    action="modify",
                    old={
                        "version": latest.version,
                        "content_sha256": latest.content_sha256,
                        "content": latest.content.to_dict(),
                    },
                    new=values,
                    reason=why,
                )
            ]
            for draft in (v for v in versions if v.status == "draft"):
                events.append(
                    self._set_status(
                        conn, actor, draft, "superseded", f"version {number} was drafted"
                    )
                )
            self._trail.record(conn, events)
            return read_version(conn, recipe_id, number)

    def sign_as_author(
        self,
        session: Session,
        recipe_id: str,
        version: int,
        *,
        password: str,
        username: str | None = None,
    ) -> Session:
        """The author's signature on a draft (`Meaning.AUTHORED`); returns the renewed session."""
        session = self._users.touch(session)
        draft = self._latest_draft(recipe_id, version)
        if self._signed(draft, Meaning.AUTHORED):
            raise RecipeError(
                f"recipe {recipe_id!r} version {version} is signed by its author already",
                hint="QA or a supervisor who is not the author approves it now",
            )
        if session.user_id != draft.author_user_id:
            raise PermissionDeniedError(
                f"{session.username} is not the author of recipe {recipe_id!r} version "
                f"{version} ({draft.author} is)",
                hint=f"{draft.author} signs as author; others approve or edit",
            )
        session, _ = self._signatures.sign(
            session,
            action=RECIPE_APPROVAL,
            object_type=VERSION_OBJECT,
            object_id=draft.object_id,
            meaning=Meaning.AUTHORED,
            password=password,
            username=username,
        )
        return session

    def approve(
        self,
        session: Session,
        recipe_id: str,
        version: int,
        *,
        password: str,
        username: str | None = None,
    ) -> tuple[Session, RecipeVersion]:
        """QA's or a supervisor's approval of a draft the author has signed, by someone else
        than the author; the version approved before is superseded."""
        session = self._users.touch(session)
        draft = self._latest_draft(recipe_id, version)
        self._check_approver(session, draft)
        if not self._signed(draft, Meaning.APPROVED):
            session, _ = self._signatures.sign(
                session,
                action=RECIPE_APPROVAL,
                object_type=VERSION_OBJECT,
                object_id=draft.object_id,
                meaning=Meaning.APPROVED,
                password=password,
                username=username,
            )
        actor = Actor(session.user_id, session.username)
        with self._engine.begin() as conn:
            self._trail.record(conn, [])
            versions = read_versions(conn, recipe_id)
            current = next(v for v in versions if v.version == version)
            if current.status != "draft" or versions[-1].version != version:
                raise RecipeError(
                    f"recipe {recipe_id!r} version {version} changed while it was approved "
                    f"(now {current.status}; latest version {versions[-1].version})",
                    hint="approve the latest version",
                )
            events = [
                self._set_status(conn, actor, old, "superseded", f"version {version} approved")
                for old in versions
                if old.status == "approved"
            ]
            events.append(
                self._set_status(
                    conn, actor, current, "approved", "approved by signature (two-person rule)"
                )
            )
            self._trail.record(conn, events)
            return session, read_version(conn, recipe_id, version)

    def retire(self, session: Session, recipe_id: str, *, reason: str) -> RecipeVersion:
        """Withdraw the approved version: no new order may use the recipe until another
        version is approved. Running orders keep their control recipe."""
        session = self._users.touch(session)
        if session.role not in APPROVER_ROLES:
            raise PermissionDeniedError(
                f"{session.username} ({session.role.value}) cannot retire a recipe",
                hint="QA or a supervisor retires recipes",
            )
        why = _reason(reason)
        actor = Actor(session.user_id, session.username)
        with self._engine.begin() as conn:
            self._trail.record(conn, [])
            approved = [v for v in read_versions(conn, recipe_id) if v.status == "approved"]
            if not approved:
                raise RecipeError(
                    f"recipe {recipe_id!r} has no approved version to retire",
                    hint="only the approved version is retired; drafts are left or edited",
                )
            (current,) = approved
            self._trail.record(conn, [self._set_status(conn, actor, current, "retired", why)])
            return read_version(conn, recipe_id, current.version)

    # --- reading --------------------------------------------------------------------------

    def version(self, recipe_id: str, version: int | None = None) -> RecipeVersion:
        """One version of a recipe; the latest when `version` is None."""
        with self._engine.connect() as conn:
            return read_version(conn, recipe_id, version)

    def versions(self, recipe_id: str) -> list[RecipeVersion]:
        with self._engine.connect() as conn:
            return read_versions(conn, recipe_id)

    def recipes(self) -> list[RecipeSummary]:
        with self._engine.connect() as conn:
            return read_summaries(conn)

    def signatures(self, recipe_id: str, version: int) -> list[SignatureInfo]:
        return self._signatures.signatures(VERSION_OBJECT, version_object_id(recipe_id, version))

    def approval_verified(self, recipe_id: str, version: int) -> bool:
        """True when the version carries both signatures of its approval, all valid."""
        return self._signatures.is_complete(
            RECIPE_APPROVAL, VERSION_OBJECT, version_object_id(recipe_id, version)
        )

    # --- internals ------------------------------------------------------------------------

    def _author(self, session: Session) -> Session:
        session = self._users.touch(session)
        if session.role not in AUTHOR_ROLES:
            raise PermissionDeniedError(
                f"{session.username} ({session.role.value}) cannot write recipes",
                hint="recipes are written by "
                + ", ".join(sorted(role.value for role in AUTHOR_ROLES)),
            )
        return session

    def _insert_version(
        self,
        conn: Connection,
        session: Session,
        recipe_id: str,
        number: int,
        based_on: int | None,
        content: RecipeContent,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "recipe_id": recipe_id,
            "version": number,
            "based_on": based_on,
            "content": content.to_dict(),
            "content_sha256": content.sha256(),
            "status": "draft",
        }
        conn.execute(
            insert(RecipeVersionRow).values(
                **values,
                created_at=self._trail.now(),
                author_user_id=session.user_id,
                author=session.username,
            )
        )
        return values

    def _set_status(
        self, conn: Connection, actor: Actor, version: RecipeVersion, status: str, reason: str
    ) -> AuditEvent:
        approval: dict[str, Any] = {}
        if status == "approved":
            approval = {"approved_at": self._trail.now(), "approved_by": actor.username}
        conn.execute(
            update(RecipeVersionRow)
            .where(
                RecipeVersionRow.recipe_id == version.recipe_id,
                RecipeVersionRow.version == version.version,
            )
            .values(status=status, **approval)
        )
        return actor.event(
            f"recipe_version.{status}",
            VERSION_OBJECT,
            version.object_id,
            action="modify",
            old={"status": version.status},
            new={"status": status, "content_sha256": version.content_sha256, **approval},
            reason=reason,
        )

    def _latest_draft(self, recipe_id: str, version: int) -> RecipeVersion:
        with self._engine.connect() as conn:
            versions = read_versions(conn, recipe_id)
        wanted = [v for v in versions if v.version == version]
        if not wanted:
            raise NotFoundError(
                f"recipe {recipe_id!r} has no version {version}",
                hint=f"its versions are 1 to {versions[-1].version}",
            )
        (found,) = wanted
        if found.status != "draft":
            raise RecipeError(
                f"recipe {recipe_id!r} version {version} is {found.status}, not a draft",
                hint="only a draft is signed and approved; edit the recipe for a new draft",
            )
        if versions[-1].version != version:
            raise RecipeError(
                f"recipe {recipe_id!r} version {version} is not the latest "
                f"(version {versions[-1].version} is)",
                hint=f"sign and approve version {versions[-1].version}",
            )
        return found

    def _signed(self, version: RecipeVersion, meaning: Meaning) -> list[SignatureInfo]:
        """Valid signatures of this meaning on the version as it is now."""
        if self._signatures.verify(VERSION_OBJECT, version.object_id).findings:
            return []
        with self._engine.connect() as conn:
            current = load_recipe_version(conn, version.object_id)
        assert current is not None
        digest = sha256_hex(canonical_record(current))
        return [
            s
            for s in self._signatures.signatures(VERSION_OBJECT, version.object_id)
            if s.meaning == meaning.value and s.record_hash == digest
        ]

    def _check_approver(self, session: Session, draft: RecipeVersion) -> None:
        if session.role not in APPROVER_ROLES:
            self._refuse(session, draft, f"the {session.role.value} role may not approve")
            raise PermissionDeniedError(
                f"{session.username} ({session.role.value}) cannot approve a recipe",
                hint="QA or a supervisor approves recipes (two-person rule: not the author)",
            )
        authored = self._signed(draft, Meaning.AUTHORED)
        if not authored:
            raise RecipeError(
                f"recipe {draft.recipe_id!r} version {draft.version} is not signed by its "
                f"author {draft.author} yet",
                hint=f"{draft.author} signs it first (`tracegate recipe sign`), then approve it",
            )
        if session.user_id in {draft.author_user_id, *(s.user_id for s in authored)}:
            self._refuse(session, draft, "the author may not approve their own version")
            raise PermissionDeniedError(
                f"{session.username} wrote recipe {draft.recipe_id!r} version {draft.version} "
                "and cannot also approve it",
                hint="two-person rule: another QA person or supervisor approves it",
            )

    def _refuse(self, session: Session, draft: RecipeVersion, why: str) -> None:
        self._trail.append(
            [
                AuditEvent(
                    "recipe_version.approval_refused",
                    VERSION_OBJECT,
                    draft.object_id,
                    action="access",
                    new={"why": why},
                    user_id=session.user_id,
                    username=session.username,
                )
            ]
        )


def _check_identity(recipe_id: str, name: str) -> None:
    if not RECIPE_ID.fullmatch(recipe_id):
        raise RecipeError(
            f"recipe id {recipe_id!r} is not valid",
            hint="1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="id",
        )
    if not name.strip() or len(name) > MAX_NAME:
        raise RecipeError(
            f"recipe name {name!r} must be 1 to {MAX_NAME} characters",
            hint="name the recipe as people know it",
            field="name",
        )


def _check_new(conn: Connection, recipe_id: str, product_id: str) -> None:
    if conn.execute(select(Product.id).where(Product.id == product_id)).first() is None:
        raise NotFoundError(
            f"unknown product {product_id!r}", hint="name a product of the site file"
        )
    if conn.execute(select(RecipeRow.id).where(RecipeRow.id == recipe_id)).first() is not None:
        raise RecipeError(
            f"recipe {recipe_id!r} exists already",
            hint="edit it for a new version, or choose another id",
            field="id",
        )
    other = conn.execute(
        select(RecipeRow.id).where(RecipeRow.product_id == product_id)
    ).scalar_one_or_none()
    if other is not None:
        raise RecipeError(
            f"product {product_id!r} has a recipe already ({other!r})",
            hint=f"a product has one recipe: edit {other!r} for a new version",
            field="product",
        )


def _reason(reason: str) -> str:
    if not reason.strip():
        raise RecipeError(
            "a reason is needed", hint="say why the recipe changes (it goes into the audit trail)"
        )
    return reason.strip()
