"""Pages and API of complaints: the queue, uploads, alerts and the intake API."""
