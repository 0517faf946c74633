"""Tests for wasmd."""
