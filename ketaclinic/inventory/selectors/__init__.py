"""Reads of the controlled-substance ledger, scoped to the viewer's clinics: `stock` (dashboard, vials,
ledger pages, draws, counts, discrepancies) and `reports` (the inspector's logs and DEA form data)."""
