"""HuggingGPT as gRPC microservices: shared code used by every service (one copy, never per service)."""
