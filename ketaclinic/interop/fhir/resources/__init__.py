"""Builders, one module per resource type: pure mapping functions from our rows to FHIR R4 resources (dicts),
and `validated`, which every resource passes before it is sent."""
