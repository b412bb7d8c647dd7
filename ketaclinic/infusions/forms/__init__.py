"""Forms of the infusion pages, one module per subject: `chair` (the check-in checklist, vital signs, pump
events, alerts, overrides, withdrawals) and `care` (side effects, rescue drugs, recovery scores, discharge,
signatures, the event review, the ketamine left over); `widgets` holds what they share."""
