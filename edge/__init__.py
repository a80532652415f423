"""The HTTP edge: an OpenAI-compatible API and the web UI in front of the gateway's gRPC contract."""
