"""End-to-end tests against real processes (Envoy, wasmd)."""
