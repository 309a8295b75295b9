"""ASGI entry point for servers: ``uvicorn sqm.web.asgi:app``."""

import gc

from sqm.web.app import create_app

app = create_app()

# Everything imported and built so far lives as long as the server: ≈ 250,000 objects
# (SQLAlchemy, pandas, scipy…) that every full garbage collection walked again — a 150 ms
# pause that was the 99th percentile of intake latency. Frozen, collections skip them.
gc.freeze()
