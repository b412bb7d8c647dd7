"""Writes of clinical documentation, split by subdomain: notes (drafts, signing, co-signature, addenda,
releases), letters and releases of information, outside records."""
