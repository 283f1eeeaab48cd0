"""Shared pytest configuration for varimac's suite."""
