"""The gateway service: the public entry point chaining the stages."""
