"""``cmesh install``: record a cluster and start it the way a real one starts.

A fresh cluster has the ``kube-system`` namespace with CoreDNS (pods labelled
``k8s-app: kube-dns``) behind the ``kube-dns`` Service on port 53 UDP and TCP, and the
``default/kubernetes`` Service, as kubeadm/kind clusters do.  Manifests applied later that
define their own ``kube-system/kube-dns`` replace these objects.
"""

from __future__ import annotations

import ipaddress

from cmesh.cluster import ClusterConfig
from cmesh.model import load_text
from cmesh.registry.home import Home
from cmesh.registry.registry import ClusterRegistry, check

_BOOTSTRAP = """\
apiVersion: v1
kind: Namespace
metadata: {{name: kube-system}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: default}}
---
apiVersion: v1
kind: Service
metadata:
  name: kubernetes
  namespace: default
  labels: {{component: apiserver, provider: kubernetes}}
spec:
  type: ClusterIP
  clusterIP: {api_ip}
  ports:
  - {{name: https, port: 443, protocol: TCP, targetPort: 6443}}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {{k8s-app: kube-dns, kubernetes.io/name: CoreDNS}}
spec:
  type: ClusterIP
  clusterIP: {dns_ip}
  selector: {{k8s-app: kube-dns}}
  ports:
  - {{name: dns, port: 53, protocol: UDP, targetPort: 53}}
  - {{name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}}
  - {{name: metrics, port: 9153, protocol: TCP, targetPort: 9153}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {{k8s-app: kube-dns}}
spec:
  replicas: 2
  selector: {{matchLabels: {{k8s-app: kube-dns}}}}
  template:
    metadata:
      labels: {{k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v1.11.3
        ports:
        - {{name: dns, containerPort: 53, protocol: UDP}}
        - {{name: dns-tcp, containerPort: 53, protocol: TCP}}
        - {{name: metrics, containerPort: 9153, protocol: TCP}}
"""


def bootstrap_manifest(cfg: ClusterConfig) -> str:
    net = ipaddress.ip_network(cfg.service_cidr)
    return _BOOTSTRAP.format(
        api_ip=str(net.network_address + 1), dns_ip=str(net.network_address + 10)
    )


def install(home: Home, cfg: ClusterConfig) -> ClusterConfig:
    """Validate and record ``cfg``, then apply the cluster's bootstrap objects."""
    home.save_cluster(cfg, create=True)
    resources, diags = load_text(bootstrap_manifest(cfg), "<install>")
    check(diags)
    ClusterRegistry(home.store, cfg).apply(resources)
    return cfg
