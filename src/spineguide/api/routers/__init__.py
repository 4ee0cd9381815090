"""REST routers mounted under /api/v1."""
