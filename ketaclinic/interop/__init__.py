"""Interoperability: HL7 v2 over MLLP (`hl7`) and a FHIR R4 API (`fhir`), each its own Django app."""
