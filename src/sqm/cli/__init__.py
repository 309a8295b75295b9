"""cli layer of SQM."""
