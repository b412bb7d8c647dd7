"""Price list, good-faith estimates, invoices, payments and superbills."""
