"""The JSON API under /api/v1 (documented by the generated OpenAPI schema)."""
