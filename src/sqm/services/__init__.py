"""services layer of SQM."""
