"""EPCIS 2.0 events and documents, pure: builders for what a packaging site reports, the CBV
checks the official schema does not make, the event hash ID, the sequence rules, and the
JSON-LD and XML bindings. Validation against the official JSON schema and XSD needs libraries
and lives in `gateway.epcis`."""

from serialization.epcis.builders import (
    Place,
    commissioning,
    decommissioning,
    destroying,
    inspecting,
    packing,
    recalling,
    sampling,
    shipping,
    unpacking,
)
from serialization.epcis.document import EpcisDocument
from serialization.epcis.errors import EpcisError, SequenceError, VocabularyError
from serialization.epcis.events import (
    Action,
    AggregationEvent,
    BizTransaction,
    EpcisEvent,
    Ilmd,
    ObjectEvent,
    Party,
)
from serialization.epcis.hash_id import event_hash_id, pre_hash_string
from serialization.epcis.jsonld_binding import document_to_jsonld, event_id, event_to_jsonld
from serialization.epcis.sequence import Rule, SequenceChecker, check_sequence
from serialization.epcis.xml_binding import document_to_xml

__all__ = [
    "Action",
    "AggregationEvent",
    "BizTransaction",
    "EpcisDocument",
    "EpcisError",
    "EpcisEvent",
    "Ilmd",
    "ObjectEvent",
    "Party",
    "Place",
    "Rule",
    "SequenceChecker",
    "SequenceError",
    "VocabularyError",
    "check_sequence",
    "commissioning",
    "decommissioning",
    "destroying",
    "document_to_jsonld",
    "document_to_xml",
    "event_hash_id",
    "event_id",
    "event_to_jsonld",
    "inspecting",
    "packing",
    "pre_hash_string",
    "recalling",
    "sampling",
    "shipping",
    "unpacking",
]
