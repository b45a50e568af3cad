"""Our CBV checks refuse what the official schema lets through, with a hint to the right term."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from serialization.epcis import Action, BizTransaction, ObjectEvent, Party, VocabularyError
from serialization.epcis.vocabulary import Vocabulary, cbv_term

AT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
EPC = "urn:epc:id:sgtin:9501101.053000.ABC123"


@pytest.mark.parametrize(
    "value",
    [
        "commissioning",
        "https://ref.gs1.org/cbv/BizStep-commissioning",
        "urn:epcglobal:cbv:bizstep:commissioning",
    ],
)
def test_each_spelling_of_a_term_gives_the_bare_term(value: str) -> None:
    assert cbv_term(Vocabulary.BIZ_STEP, value) == "commissioning"


@pytest.mark.parametrize(
    ("vocabulary", "value", "suggestion"),
    [
        (Vocabulary.BIZ_STEP, "comissioning", "'commissioning'"),
        (Vocabulary.BIZ_STEP, "https://ref.gs1.org/cbv/BizStep-comissioning", "'commissioning'"),
        (Vocabulary.BIZ_STEP, "urn:epcglobal:cbv:bizstep:shiping", "'shipping'"),
        (Vocabulary.DISPOSITION, "in-transit", "'in_transit'"),
        (Vocabulary.BIZ_TRANSACTION_TYPE, "PO", "'po'"),
        (Vocabulary.SOURCE_DESTINATION_TYPE, "owner_party", "'owning_party'"),
    ],
)
def test_a_misspelled_term_is_refused_with_the_nearest_terms(
    vocabulary: Vocabulary, value: str, suggestion: str
) -> None:
    with pytest.raises(VocabularyError) as caught:
        cbv_term(vocabulary, value)
    text = str(caught.value)
    assert f"{value!r} is not a CBV 2.0 {vocabulary.field}" in text
    assert text.startswith(vocabulary.field)
    assert f"did you mean {suggestion}" in text


def test_a_private_vocabulary_uri_is_refused() -> None:
    with pytest.raises(VocabularyError, match="tracegate uses no private vocabulary"):
        cbv_term(Vocabulary.BIZ_STEP, "https://example.com/vocab/producing")
    with pytest.raises(VocabularyError, match="not a text value"):
        cbv_term(Vocabulary.DISPOSITION, 7)


def test_an_event_with_a_misspelled_step_or_type_cannot_be_made() -> None:
    with pytest.raises(VocabularyError, match=r"'comissioning' is not a CBV 2\.0 bizStep"):
        ObjectEvent(event_time=AT, epc_list=(EPC,), action=Action.ADD, biz_step="comissioning")
    with pytest.raises(VocabularyError, match="disposition"):
        ObjectEvent(event_time=AT, epc_list=(EPC,), action=Action.ADD, disposition="actve")
    with pytest.raises(VocabularyError, match="bizTransaction type"):
        BizTransaction("urn:epcglobal:cbv:bt:9501101000001:1", "purchase_order")
    with pytest.raises(VocabularyError, match="source/destination type"):
        Party("urn:epc:id:pgln:9501101.00000", "owner")


def test_an_event_keeps_the_bare_term_of_any_spelling() -> None:
    event = ObjectEvent(
        event_time=AT,
        epc_list=(EPC,),
        action=Action.OBSERVE,
        biz_step="urn:epcglobal:cbv:bizstep:inspecting",
        disposition="https://ref.gs1.org/cbv/Disp-conformant",
        biz_transactions=(
            BizTransaction("urn:epcglobal:cbv:bt:9501101000001:1", "urn:epcglobal:cbv:btt:po"),
        ),
    )
    assert (event.biz_step, event.disposition) == ("inspecting", "conformant")
    assert event.biz_transactions[0].type == "po"
