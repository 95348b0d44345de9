"""The browser page: an ASGI app with a WebSocket stream of the world's events."""
