"""cmesh: multi-cluster network policy modelled on Cilium ClusterMesh."""

__version__ = "0.1.0"
