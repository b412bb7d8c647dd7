"""The FHIR R4 read and search API, built and validated with fhir.resources.R4B."""
