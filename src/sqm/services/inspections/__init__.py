"""inspections."""
