"""The device API, /api/v1 (see docs/api.md)."""
