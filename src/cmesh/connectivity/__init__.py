"""The connectivity test suite (as ``cilium connectivity test``), run on the simulated mesh."""

from cmesh.connectivity.run import run_suite
from cmesh.connectivity.suite import TESTS, junit, summary

__all__ = ["TESTS", "junit", "run_suite", "summary"]
