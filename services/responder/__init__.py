"""The responder service."""
