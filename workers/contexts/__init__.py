"""Contexts: plugin (root) and stream contexts, lifecycle, failure policy; the ABI semantics."""
