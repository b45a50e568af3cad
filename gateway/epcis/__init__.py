"""EPCIS 2.0 on the gateway side: a batch's journal as EPCIS events, the documents validated
against the official JSON schema and XSD (kept in `standard/`), and the export command."""
