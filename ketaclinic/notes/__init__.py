"""Encounter and psychotherapy notes, addenda, letters, outside documents and the chart timeline."""
