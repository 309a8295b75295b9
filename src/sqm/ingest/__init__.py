"""ingest layer of SQM."""
