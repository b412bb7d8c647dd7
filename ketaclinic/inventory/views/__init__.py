"""Inventory pages: `stock` (dashboard, receipts, locations, transfers, draws, wastes, removals, counts,
discrepancies, ledger) and `reports` (the inspector's log, inventory and Form 106, as page, CSV and PDF)."""
