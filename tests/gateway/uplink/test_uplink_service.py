"""The site's uplinks from the site file's section: the journal feeds the outbox, the
dispatchers deliver, and the outbox's level, a destination down and a refused message are
alarms that clear when the cause is gone."""

from __future__ import annotations

import asyncio
import json
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from config.uplinks import UplinksSection
from ebr.journal import Journal
from gateway.alarms.catalog import RUNTIME_ALARMS
from gateway.alarms.manager import AlarmManager
from gateway.uplink.service import UplinkService
from tests.gateway.uplink.capture_receiver import CaptureReceiver, Mode
from tests.gateway.uplink.test_epcis_http_uplink import drained
from tests.gateway.uplink.test_outbox_feed import exported_bodies
from tests.gateway.uplink.uplink_fixtures import StepClock, event_ids, fed_line, messages


def standing(alarms: AlarmManager) -> set[tuple[str, str]]:
    return {(a.id, a.source) for a in alarms.active() if a.condition_active}


async def test_the_service_delivers_and_raises_and_clears_its_alarms(engine: Engine) -> None:
    receiver = CaptureReceiver(mode=Mode.OUTAGE)
    await receiver.start()
    section = UplinksSection.model_validate(
        {
            "outbox": {"max_rows": 1000, "high_water": 0.005},
            "retry": {"initial_s": 0.02, "max_s": 0.1},
            "destinations": [{"id": "hq", "type": "epcis-http", "url": receiver.url}],
        }
    )
    alarms = AlarmManager(definitions=RUNTIME_ALARMS)
    service = UplinkService(
        section, engine, site_id="plant-1", zone=ZoneInfo("Asia/Shanghai"), alarms=alarms
    )
    fed = fed_line(engine, units=12, cases=1)
    line = fed.line
    line.journal = Journal(engine, clock=StepClock(), hook=service.feed)
    fed.outbox = service.outbox
    try:
        async with service:
            await asyncio.to_thread(line.accept, *line.units[:6])
            await asyncio.sleep(0.3)
            await service.watch_once()
            assert standing(alarms) == {("OUTBOX_HIGH_WATER", "outbox"), ("UPLINK_DOWN", "hq")}
            bad = json.loads(messages(engine)[4].body)["eventID"]
            receiver.refuse_event_ids.add(bad)
            receiver.mode = Mode.OK
            async with asyncio.timeout(10):
                while len(messages(engine)) > 2 or not service.outbox.quarantined("hq"):
                    await asyncio.sleep(0.02)
            await service.watch_once()
            assert standing(alarms) == {("UPLINK_QUARANTINE", "hq")}
            (quarantine,) = [a for a in alarms.active() if a.id == "UPLINK_QUARANTINE"]
            assert "HTTP 422" in quarantine.detail
            assert "plant-1/line-1 #5" in quarantine.detail
            receiver.refuse_event_ids.clear()
            assert await service.dispatchers[0].release() == 1
            await drained(fed)
            await service.watch_once()
            assert standing(alarms) == set()
            assert receiver.event_ids() == event_ids(exported_bodies(fed))
            health = service.health()
            assert [h.state.value for h in health] == ["up"]
            assert service.telemetry()["uplink/hq/delivered"] == 6
    finally:
        await receiver.stop()
