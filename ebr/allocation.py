"""Code allocation: codes are durable as Allocated before anyone sees them (R-CODE-1).

One `allocate` call is one database transaction: the serial source advances, the codes are
inserted (or, for imported lists, moved) as Allocated, the allocation is recorded, and the
commit returns before the codes are handed out. A crash before the commit leaves no trace; a
crash after it leaves codes Allocated to the line, which start-up reconciles and never hands
out again. The allocator never hands out a code that was allocated before, returned or not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ebr.audit.actor import GATEWAY, Actor, StoreWriter, utc_now
from ebr.audit.trail import AuditTrail
from ebr.catalog import BatchContext, load_batch_context
from ebr.code_states import codes_by_key
from ebr.errors import AllocationError, PoolExhaustedError
from ebr.models import Allocation, Code, SerialPool
from ebr.sql import insert_returning_id
from serialization.codes import SchemeName
from serialization.coding import CodeFactory, IssuedCode
from serialization.lifecycle import BatchPhase
from serialization.rules import PackagingLevel, SerialGenerator, SerialSpec
from serialization.serials import (
    DIGITS,
    CsprngSerials,
    Ff1Serials,
    SerialFormat,
    check_serial_policy,
    derive_product_key,
)
from serialization.states import CodeState

_INSERT_CODE = "INSERT INTO codes (key, pool_id, serial, state, allocation_id, data) VALUES ({})"


AllocatedCode = IssuedCode

ALLOCATING_PHASES = frozenset(
    {
        "open",
        BatchPhase.DOWNLOADED,
        BatchPhase.CLEARANCE,
        BatchPhase.CHALLENGE,
        BatchPhase.RUNNING,
        BatchPhase.HELD,
        BatchPhase.COMPLETING,
    }
)
"""Phases in which a batch may receive codes ("open": batches created before the lifecycle);
Completing still packs the last partial case and pallet."""


class CodeAllocator(StoreWriter):
    """Hands out codes to a line for a batch; see the module docstring for the guarantees."""

    def __init__(
        self,
        engine: Engine,
        *,
        master_key: bytes | None = None,
        clock: Callable[[], datetime] = utc_now,
        audit: AuditTrail | None = None,
        actor: Actor = GATEWAY,
    ) -> None:
        super().__init__(engine, clock=clock, audit=audit, actor=actor)
        self._master_key = master_key
        placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._insert_sql = _INSERT_CODE.format(", ".join([placeholder] * 6))

    def allocate(
        self, line_id: str, batch_id: int, n: int, *, level: PackagingLevel = PackagingLevel.UNIT
    ) -> list[AllocatedCode]:
        if n <= 0:
            raise AllocationError(f"cannot allocate {n} codes", hint="ask for at least one code")
        with self._engine.begin() as conn:
            context = load_batch_context(conn, batch_id, level)
            if context.line_id != line_id:
                raise AllocationError(
                    f"batch {batch_id} ({context.lot}) runs on line {context.line_id!r}, "
                    f"not on {line_id!r}",
                    hint="allocate on the batch's own line",
                )
            if context.status not in ALLOCATING_PHASES:
                raise AllocationError(
                    f"batch {batch_id} ({context.lot}) is {context.status}; codes are allocated "
                    "only to a batch that is not yet completed",
                    hint="create a new batch for more production",
                )
            factory = CodeFactory(context.rule, context.product, context.lot_data)
            allocation_id = insert_returning_id(
                conn,
                insert(Allocation).values(
                    line_id=line_id,
                    batch_id=batch_id,
                    level=level.value,
                    count=n,
                    created_at=self._clock(),
                ),
            )
            codes = self._draw(conn, context, level, n, allocation_id, factory)
            self._audit.record(
                conn,
                [
                    self._actor.event(
                        "codes.allocated",
                        "batch",
                        batch_id,
                        action="create",
                        new={
                            "allocation_id": allocation_id,
                            "line_id": line_id,
                            "level": level.value,
                            "count": len(codes),
                            "first": codes[0].key,
                            "last": codes[-1].key,
                        },
                    )
                ],
            )
        return codes

    def _draw(
        self,
        conn: Connection,
        context: BatchContext,
        level: PackagingLevel,
        n: int,
        allocation_id: int,
        factory: CodeFactory,
    ) -> list[AllocatedCode]:
        spec = context.rule.serial
        if spec is None or spec.generator is SerialGenerator.IMPORTED:
            return self._take_imported(conn, context, level, n, allocation_id, factory)
        if context.rule.scheme is not SchemeName.SSCC:
            check_serial_policy(spec)
        pool = self._generator_pool(conn, context.product.id, level, spec)
        if spec.generator is SerialGenerator.CSPRNG:
            return self._draw_csprng(conn, pool, n, allocation_id, factory)
        codes = self._draw_counter_pool(conn, pool, n, allocation_id, factory, context.tweak)
        if len(codes) < n:
            raise PoolExhaustedError(
                f"the serial space of pool {pool.id} is used up: {len(codes)} of {n} "
                "codes could be made",
                hint="configure a longer serial for this product",
            )
        return codes

    def _generator_pool(
        self, conn: Connection, product_id: str, level: PackagingLevel, spec: SerialSpec
    ) -> SerialPool:
        """The pool of this exact serial format: a changed alphabet or length starts a new pool
        (FF1's permutation is only a bijection within one format; the UNIQUE key constraint
        still guards against the new format meeting an old code)."""
        kind = spec.generator
        query = select(SerialPool).where(
            SerialPool.product_id == product_id,
            SerialPool.level == level.value,
            SerialPool.kind == kind.value,
            SerialPool.alphabet == spec.alphabet,
            SerialPool.length == spec.length,
        )
        row = conn.execute(query.with_for_update()).first()
        if row is None:
            conn.execute(
                insert(SerialPool).values(
                    product_id=product_id,
                    level=level.value,
                    kind=kind.value,
                    alphabet=spec.alphabet,
                    length=spec.length,
                    next_counter=0,
                    created_at=self._clock(),
                )
            )
            row = conn.execute(query.with_for_update()).first()
        assert row is not None
        return SerialPool(**row._asdict())

    def _draw_csprng(
        self,
        conn: Connection,
        pool: SerialPool,
        n: int,
        allocation_id: int,
        factory: CodeFactory,
    ) -> list[AllocatedCode]:
        source = CsprngSerials(SerialFormat(pool.alphabet or "", pool.length or 0))
        wanted = n
        result: list[AllocatedCode] = []
        for _attempt in range(20):
            serials = list(dict.fromkeys(source.draw(wanted)))
            fresh = self._insert(conn, pool.id, allocation_id, factory, serials)
            result.extend(fresh)
            wanted = n - len(result)
            if wanted == 0:
                return result
        raise PoolExhaustedError(
            f"the serial space of pool {pool.id} is nearly full: 20 draws kept colliding",
            hint="use a longer serial or a larger alphabet for this product",
        )

    def _draw_counter_pool(
        self,
        conn: Connection,
        pool: SerialPool,
        n: int,
        allocation_id: int,
        factory: CodeFactory,
        tweak: bytes,
    ) -> list[AllocatedCode]:
        """Codes from a pool whose state is one counter: FF1-generated, or an imported range
        handed out in FF1-permuted order. Collisions with codes already stored are skipped."""
        serials_from = self._counter_serials(pool, tweak)
        domain = pool.domain_size or SerialFormat(pool.alphabet or "", pool.length or 0).space
        counter = pool.next_counter
        result: list[AllocatedCode] = []
        while len(result) < n and counter < domain:
            wanted = min(n - len(result), domain - counter)
            serials = serials_from(counter, wanted)
            counter += wanted
            result.extend(self._insert(conn, pool.id, allocation_id, factory, serials))
        conn.execute(
            update(SerialPool).where(SerialPool.id == pool.id).values(next_counter=counter)
        )
        return result

    def _counter_serials(self, pool: SerialPool, tweak: bytes) -> Callable[[int, int], list[str]]:
        if self._master_key is None:
            raise AllocationError(
                f"serials of pool {pool.id} ({pool.kind}) are handed out in FF1-permuted order, "
                "but no serial key is loaded",
                hint="set site.serial_key_file and create it with `tracegate keys create FILE`",
            )
        key = derive_product_key(self._master_key, pool.product_id)
        if pool.kind == "ff1":
            fmt = SerialFormat(pool.alphabet or "", pool.length or 0)
            return Ff1Serials(key, tweak, fmt, pool.domain_size).serials
        domain = pool.domain_size or 0
        width = max(2, len(str(domain - 1)))
        # The enterprise knows a range's serials already: FF1 only shuffles the order in which
        # they are printed, so the small-domain limit for secret serials does not apply.
        offsets = Ff1Serials(
            key, tweak, SerialFormat(DIGITS, width), domain, allow_small_domain=True
        )
        first, length = pool.range_start or 0, pool.length or 0

        def range_serials(start: int, count: int) -> list[str]:
            return [
                str(first + int(offset)).zfill(length) for offset in offsets.serials(start, count)
            ]

        return range_serials

    def _insert(
        self,
        conn: Connection,
        pool_id: int,
        allocation_id: int,
        factory: CodeFactory,
        serials: Sequence[str],
    ) -> list[AllocatedCode]:
        """Insert what does not exist yet; return the codes inserted (collisions are dropped)."""
        codes = [factory.issue(serial) for serial in serials]
        rows = [
            (c.key, pool_id, c.serial, int(CodeState.ALLOCATED), allocation_id, c.data)
            for c in codes
        ]
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(self._insert_sql, rows)
        except IntegrityError:
            existing = codes_by_key(conn, [c.key for c in codes])
            codes = [c for c in codes if c.key not in existing]
            rows = [r for r in rows if r[0] not in existing]
            if rows:
                conn.exec_driver_sql(self._insert_sql, rows)
        return codes

    def _take_imported(
        self,
        conn: Connection,
        context: BatchContext,
        level: PackagingLevel,
        n: int,
        allocation_id: int,
        factory: CodeFactory,
    ) -> list[AllocatedCode]:
        """Codes from the enterprise's lists and ranges, oldest import first."""
        pools = [
            SerialPool(**row._asdict())
            for row in conn.execute(
                select(SerialPool)
                .where(
                    SerialPool.product_id == context.product.id,
                    SerialPool.level == level.value,
                    SerialPool.kind.in_(("list", "range")),
                )
                .order_by(SerialPool.id)
                .with_for_update()
            )
        ]
        result: list[AllocatedCode] = []
        for pool in pools:
            if len(result) == n:
                break
            if pool.kind == "range":
                if pool.next_counter < (pool.domain_size or 0):
                    result.extend(
                        self._draw_counter_pool(
                            conn, pool, n - len(result), allocation_id, factory, context.tweak
                        )
                    )
            else:
                result.extend(
                    self._take_list(conn, pool.id, n - len(result), allocation_id, factory)
                )
        if len(result) < n:
            raise PoolExhaustedError(
                f"product {context.product.id!r} has {len(result)} unused imported serials or "
                f"codes at level {level.value}, {n} were asked for",
                hint="import more serials or codes from the enterprise "
                "(`tracegate codes import FILE`)",
            )
        return result

    def _take_list(
        self, conn: Connection, pool_id: int, n: int, allocation_id: int, factory: CodeFactory
    ) -> list[AllocatedCode]:
        rows = conn.execute(
            select(Code.id, Code.serial, Code.data)
            .where(
                Code.pool_id == pool_id,
                Code.state == int(CodeState.UNALLOCATED),
                Code.allocation_id.is_(None),
            )
            .order_by(Code.id)
            .limit(n)
        ).all()
        if not rows:
            return []
        codes = [
            factory.issue_checked(serial) if data is None else factory.from_data(data)
            for _id, serial, data in rows
        ]
        result = conn.execute(
            update(Code)
            .where(Code.id == bindparam("code_id"), Code.state == int(CodeState.UNALLOCATED))
            .values(
                state=int(CodeState.ALLOCATED),
                allocation_id=bindparam("allocation_id"),
                data=bindparam("data"),
            ),
            [
                {"code_id": row.id, "data": code.data, "allocation_id": allocation_id}
                for row, code in zip(rows, codes, strict=True)
            ],
        )
        if result.rowcount != len(rows):
            raise AllocationError("imported codes changed while being allocated; try again")
        return codes
