"""store layer of SQM."""
