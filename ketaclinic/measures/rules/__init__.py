"""Pure clinical rules of measurement-based care (no Django): definitions, scoring, outcomes, schedule."""
