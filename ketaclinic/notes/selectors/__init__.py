"""Reads of clinical documentation, access-scoped (the notes permission, the caseload, the psychotherapy-note
rule) and audited."""
