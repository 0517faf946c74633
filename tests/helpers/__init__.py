"""Test helpers: processes, manifests, outcomes, a scripted upstream."""
