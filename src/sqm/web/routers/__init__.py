"""web/routers layer of SQM."""
