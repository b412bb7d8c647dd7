"""The custodian's and the nurses' verbs on the controlled-substance ledger, one module per subdomain:
`witness` (the second person signs in), `stock` (products, locations, receipts, transfers, removals),
`draws` (draws, administrations, wastes, reconciliation), `counts` (counts and discrepancies) and `chain`
(appending to and verifying the hash chains).

Serialisation: every write that changes a vial locks the vial row, then the product's chain head, with
`select_for_update()`, always in that order (vials by id), so two nurses drawing from one vial at once queue
on PostgreSQL and neither can overdraw it or fork the chain. SQLite ignores `select_for_update()`, but the
settings open every transaction with BEGIN IMMEDIATE, which takes the database's write lock at once, so
writers queue there too. The unique (product, sequence) constraint is the last line: a forked chain cannot
be stored on either database.
"""
