"""The per-cluster agent: incremental updates, exports, heartbeat, /metrics."""

from cmesh.agent.agent import Agent
from cmesh.agent.server import serve

__all__ = ["Agent", "serve"]
