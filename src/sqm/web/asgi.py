"""ASGI entry point for servers: ``uvicorn sqm.web.asgi:app``."""

from sqm.web.app import create_app

app = create_app()
