"""domain layer of SQM."""
