"""The `case-camera` aggregation mode: each case recorded with exactly the units its camera read.

On the PLC's `case <n>` the station waits (at most `timeout_s`) for the case camera's frame of
the case's contents (unit ref `case-<n>`), reads every code in it in a worker thread, says
where each code stands and lets `case_contents.check_case` decide. A case that passes is
labelled and recorded like a `plc-count` case, with exactly the units read; any other — a unit
unreadable, foreign, rejected or already packed, a wrong count, no frame in time — is not
recorded: `on_refused` raises the alarm, and the units read leave the waiting line (they are
in that case, which goes to the rework station), so later cases and pallets stay right.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from drivers.base import PixelFormat, SmartResult
from drivers.camera.vision import ContentsCode, Verifier, read_contents
from drivers.camera.vision.image import ImageError
from gateway.line.case_contents import check_case
from gateway.line.frames import FrameRouter
from gateway.line.ledger import CodeLedger
from gateway.line.packing import PackedContainer, PackingStation

OwnerLookup = Callable[[Sequence[ContentsCode]], Awaitable[dict[str, str]]]
"""Where codes read belong when they are no unit code of this batch on this line (another
batch, a case label, never issued here), by their data."""


class CaseCameraStation:
    def __init__(
        self,
        *,
        cases: PackingStation,
        frames: FrameRouter,
        verifier: Verifier,
        ledger: Callable[[], CodeLedger],
        owners: OwnerLookup,
        on_refused: Callable[[int, str], None],
        timeout_s: float,
    ) -> None:
        self.cases = cases
        self.frames = frames
        self.verifier = verifier
        self.ledger = ledger
        self.owners = owners
        self.on_refused = on_refused
        self.timeout_s = timeout_s
        self.refused: list[int] = []
        """Numbers of the cases not recorded (a label that never verified included: the
        packing station raised its alarm)."""
        self.seen_in: dict[str, int] = {}
        """Unit key → the case not recorded that its code was read in (a recorded case's units
        are the case packing station's `packed_in`: a second map of every unit of the batch here
        was memory that grew all batch long)."""

    async def case_closed(self, number: int, *, batch_end: bool) -> PackedContainer | None:
        """Read, check and record case `number`; `batch_end`: it may be the partial case."""
        frame = await self.frames.take(f"case-{number}", self.timeout_s)
        if frame is None:
            self._refuse(
                number,
                f"case {number} not recorded: no image of its contents within "
                f"{self.timeout_s:g} s; its units stay unpacked",
            )
            return None
        if isinstance(frame, SmartResult):
            self._refuse(
                number, f"case {number} not recorded: a smart camera cannot show its contents"
            )
            return None
        try:
            reading = await asyncio.to_thread(
                read_contents,
                self.verifier,
                frame.data,
                frame.width,
                frame.height,
                is_png=frame.pixel_format is PixelFormat.PNG,
            )
        except ImageError as error:
            self._refuse(number, f"case {number} not recorded: unusable image: {error}")
            return None
        ledger = self.ledger()
        codes, owners = await self._with_owners(reading.codes, ledger)
        finding = check_case(
            number,
            codes,
            expected=self.cases.capacity,
            partial=batch_end,
            unreadable=reading.unreadable,
            waiting=list(self.cases.waiting),
            standing=lambda key: self._standing(key, ledger, owners),
        )
        for key in finding.seen:
            self.seen_in.setdefault(key, number)
            self.cases.withdraw(key)
        if not finding.ok:
            self._refuse(number, finding.describe())
            return None
        container = await self.cases.pack(number, finding.children)
        if container is None:
            self.refused.append(number)
            return None
        for key in finding.seen:
            if self.seen_in.get(key) == number:
                del self.seen_in[key]
        return container

    async def _with_owners(
        self, codes: Sequence[ContentsCode], ledger: CodeLedger
    ) -> tuple[list[ContentsCode], dict[str, str]]:
        """The codes read, each one that is no unit of this batch on this line told where it
        belongs; and where they belong by key, for those with a key."""
        strangers = [code for code in codes if code.key not in ledger.issued]
        owners = await self.owners(strangers) if strangers else {}
        told = [
            replace(code, problem=f"{code.problem}: {owners[code.data]}")
            if code.key is None and code.data in owners
            else code
            for code in codes
        ]
        by_key = {code.key: owners[code.data] for code in told if code.key and code.data in owners}
        return told, by_key

    def _standing(self, key: str, ledger: CodeLedger, owners: dict[str, str]) -> str | None:
        """None when the unit may go into a case, else why not."""
        if key not in ledger.issued:
            return owners.get(key, "not a unit code of this batch")
        if key in ledger.rejected:
            return "rejected at the unit station"
        if key in ledger.sampled:
            return "taken as a QA sample"
        if key in ledger.destroyed:
            return "destroyed"
        if key not in ledger.accepted:
            return "not accepted (no verdict yet)"
        if key in self.cases.waiting:
            return None
        packed_in = self.cases.packed_in or {}
        if key in packed_in:
            return f"already in case {packed_in[key]}"
        if key in self.seen_in:
            return f"already read in case {self.seen_in[key]}, which was not recorded"
        return "already in a case"

    def _refuse(self, number: int, detail: str) -> None:
        self.refused.append(number)
        self.on_refused(number, detail)
