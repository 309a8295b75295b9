"""web layer of SQM."""
