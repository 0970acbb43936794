"""Helpers shared by the tests: the real-data location and a local HTTP server."""
