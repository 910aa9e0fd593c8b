"""Loaders: the endpoint registry, drains (pages, reconciliation, checkpoints), look-ups and submissions."""
