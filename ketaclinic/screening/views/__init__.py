"""Screening pages: the public inquiry and intake, the front desk's queue, the clinician's assessment."""
