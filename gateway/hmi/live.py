"""The live line view's values: one snapshot of the line in the viewer's language, and the
server-sent event stream that pushes one whenever the line changes (at least every heartbeat).

Each snapshot carries `event_at_ms`, the wall-clock time of the newest line event it shows,
and `sent_at_ms`, so a browser can tell how late a value reached it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from drivers.line_plc.protocol import PackMLState
from gateway.alarms.manager import Alarm
from gateway.alarms.states import AlarmState
from gateway.hmi.console import LineConsole
from gateway.hmi.i18n import CHINESE, number, translations
from gateway.hmi.settings import HmiSettings
from gateway.hmi.texts import PACKML_STATES, PHASES, PRIORITIES, REASONS, STATES

UNACKNOWLEDGED = frozenset({AlarmState.UNACK_ACTIVE, AlarmState.RTN_UNACK})


def snapshot(console: LineConsole, language: str) -> dict[str, Any]:
    _ = translations(language).gettext
    runtime = console.runtime
    base: dict[str, Any] = {
        "sent_at_ms": time.time() * 1000,
        "event_at_ms": console.last_event_ms,
        "line": runtime is not None,
    }
    if runtime is None:
        return base | {"phase": "none", "phase_text": _("No batch on the line"), "alarms": []}
    report_counts = runtime.pipeline.counts
    ledger = runtime.pipeline.ledger
    issued, good, rejected = len(ledger.issued), len(ledger.accepted), len(ledger.rejected)
    state = runtime.supervisor.plc_state
    speed = console.speed_upm(issued)
    planned = console.planned_units
    reasons = sorted(report_counts.reasons.items(), key=lambda item: -item[1])
    context = runtime.context
    lot = _("lot")
    return base | {
        "phase": runtime.supervisor.phase.value,
        "phase_text": _(PHASES.get(runtime.supervisor.phase.value, runtime.supervisor.phase.value)),
        "packml": _(PACKML_STATES[PackMLState(state)]) if state in PACKML_VALUES else "—",
        "batch": f"{runtime.batch_id} · {context.product.id} · {lot} {context.lot}",
        "good": number(good, language),
        "rejected": number(rejected, language),
        "total": number(issued, language),
        "reasons": [
            [_(REASONS.get(str(reason), str(reason))), number(count, language)]
            for reason, count in reasons
        ],
        "speed": number(round(speed) if speed is not None else None, language),
        "target": number(console.target_upm, language),
        "speed_low": bool(
            speed is not None and console.target_upm and speed < 0.8 * console.target_upm
        ),
        "serials_left": number(
            max(0, planned - issued) if planned is not None else runtime.buffer.remaining,
            language,
        ),
        "codes_ready": number(runtime.buffer.remaining, language),
        "challenge_reasons": list(runtime.supervisor.challenge_reasons),
        "alarms": [alarm_view(alarm, language) for alarm in runtime.alarms.active()],
    }


def alarm_view(alarm: Alarm, language: str) -> dict[str, Any]:
    _ = translations(language).gettext
    definition = alarm.definition
    message = definition.message_zh if language == CHINESE and definition.message_zh else None
    return {
        "id": alarm.id,
        "source": alarm.source,
        "state": alarm.state.value,
        "state_text": _(STATES[alarm.state]),
        "priority": definition.priority.name.lower(),
        "priority_text": _(PRIORITIES[definition.priority]),
        "message": message or definition.message,
        "detail": alarm.detail,
        "unacknowledged": alarm.state in UNACKNOWLEDGED,
        "shelvable": definition.shelvable,
        "shelved_by": alarm.shelved_by,
        "shelved_until": alarm.shelved_until,
        "shelve_reason": alarm.shelve_reason,
    }


def shelved_views(console: LineConsole, language: str) -> list[dict[str, Any]]:
    """The shelved alarms (hidden from the banner), each with who shelved it, why and until."""
    if console.runtime is None:
        return []
    return [
        alarm_view(alarm, language)
        for alarm in console.runtime.alarms.standing()
        if alarm.state is AlarmState.SHELVED
    ]


async def stream(
    console: LineConsole,
    language: str,
    settings: HmiSettings,
    still_allowed: Callable[[], bool],
) -> AsyncIterator[str]:
    """Server-sent events: a snapshot per change (coalesced over `stream_interval_s`), an
    `expired` event and the end when the viewer's session has ended."""
    version = -1
    yield "retry: 1000\n\n"
    while True:
        if console.closed:
            return
        if not still_allowed():
            yield "event: expired\ndata: {}\n\n"
            return
        version = await console.wait_changed(version, settings.heartbeat_s)
        if console.closed:
            return
        yield f"data: {json.dumps(snapshot(console, language), ensure_ascii=False)}\n\n"
        await asyncio.sleep(settings.stream_interval_s)


PACKML_VALUES = frozenset(int(state) for state in PackMLState)
