"""The runtime's alarm list: complete, unique, prioritised, and usable by a manager."""

from __future__ import annotations

from gateway.alarms import RUNTIME_ALARMS, AlarmManager, Priority, catalog

EXPECTED_IDS = {
    "DEVICE_FAULT",
    "RECONCILIATION_DRIFT",
    "REJECT_MISSED",
    "SERIAL_POOL_LOW",
    "LATE_VERDICT",
    "LOOP_LAG",
    "UNKNOWN_UNIT",
    "DUPLICATE_TRIGGER",
    "OUT_OF_ORDER_ACK",
    "FOREIGN_CODE",
    "CASE_CONTENTS_MISMATCH",
    "CHALLENGE_REQUIRED",
    "JOURNAL_FAILURE",
    "AUDIT_TRAIL_BROKEN",
    "OUTBOX_HIGH_WATER",
    "OUTBOX_FULL",
    "UPLINK_DOWN",
    "UPLINK_QUARANTINE",
}


def test_every_runtime_alarm_is_listed_once() -> None:
    ids = [definition.id for definition in RUNTIME_ALARMS]
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_IDS
    for definition in RUNTIME_ALARMS:
        assert getattr(catalog, definition.id) is definition


def test_messages_are_sentences_in_both_languages() -> None:
    for definition in RUNTIME_ALARMS:
        assert definition.message.endswith("."), definition.id
        assert definition.message[0].isupper(), definition.id
        assert definition.message_zh.endswith("。"), definition.id
        assert definition.category


def test_line_stopping_alarms_are_urgent_and_cannot_be_shelved() -> None:
    urgent = {d.id for d in RUNTIME_ALARMS if d.priority is Priority.URGENT}
    assert urgent == {"REJECT_MISSED", "JOURNAL_FAILURE"}
    assert {d.id for d in RUNTIME_ALARMS if not d.shelvable} == urgent


def test_a_manager_takes_the_whole_catalog() -> None:
    manager = AlarmManager(definitions=RUNTIME_ALARMS)
    for definition in RUNTIME_ALARMS:
        assert manager.definition(definition.id) is definition
