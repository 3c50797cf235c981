"""Least-privilege policies from observed flows, verified by replay (issue 9)."""
