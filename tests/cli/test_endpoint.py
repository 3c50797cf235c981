"""`cmesh endpoint list|config`: per-endpoint policy audit mode, as `cilium endpoint config ID
PolicyAuditMode=Enabled` (ref §2.12), for one pod and not its identity's siblings."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cmesh

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web-from-nobody}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: nobody}}]
"""


def setup(cmesh: Cmesh, tmp_path: Path) -> dict[str, dict]:
    cmesh("install", "--context", "c1", "--cluster-name", "c1", "--cluster-id", "1")
    f = tmp_path / "pods.yaml"
    f.write_text(PODS)
    cmesh("apply", "-f", str(f), "--context", "c1")
    return endpoints(cmesh)


def endpoints(cmesh: Cmesh) -> dict[str, dict]:
    out = cmesh("endpoint", "list", "--context", "c1", "-o", "json").stdout
    return {e["pod"]: e for e in json.loads(out)}


def nc(cmesh: Cmesh, ip: str) -> int:
    r = cmesh(
        "exec", "--context", "c1", "default/client", "--", "nc", "-z", "-w", "1", ip, "80", ok=False
    )
    return r.exit_code


def test_endpoint_list_shows_enforcement_per_direction_ref_2_1(cmesh: Cmesh, tmp_path: Path):
    eps = setup(cmesh, tmp_path)
    web = eps["default/web-1"]
    assert (web["policy_ingress"], web["policy_egress"]) == ("Enabled", "Disabled")
    assert eps["default/client"]["policy_ingress"] == "Disabled"
    assert web["identity"] == eps["default/web-2"]["identity"]
    text = cmesh("endpoint", "list", "--context", "c1").stdout
    assert text.splitlines()[0].split()[:3] == ["ENDPOINT", "POLICY", "(ingress)"]


def test_policy_audit_mode_for_one_endpoint_not_its_identity_ref_2_12(cmesh: Cmesh, tmp_path: Path):
    """web-1 and web-2 share an identity; only web-1 is put in audit mode: its drops become
    AUDIT and pass, web-2 still drops. Disabling it restores enforcement."""
    eps = setup(cmesh, tmp_path)
    ip1, ip2 = eps["default/web-1"]["ipv4"], eps["default/web-2"]["ipv4"]
    assert nc(cmesh, ip1) == 1 and nc(cmesh, ip2) == 1
    out = cmesh("endpoint", "config", "--context", "c1", "default/web-1", "PolicyAuditMode=Enabled")
    assert "updated successfully" in out.stdout
    assert (
        "PolicyAuditMode   Enabled"
        in cmesh("endpoint", "config", "--context", "c1", "default/web-1").stdout
    )
    assert endpoints(cmesh)["default/web-1"]["policy_ingress"] == "Disabled (Audit)"
    assert nc(cmesh, ip1) == 0
    assert nc(cmesh, ip2) == 1
    audit = cmesh("hubble", "observe", "--context", "c1", "--verdict", "AUDIT", "-o", "json").stdout
    assert {json.loads(x)["flow"]["destination"]["pod_name"] for x in audit.splitlines()} == {
        "web-1"
    }
    trace = cmesh(
        "policy", "trace", "--context", "c1", "--from", "default/client", "--to", "default/web-1",
        "--port", "80", "-o", "json", ok=False,
    )  # fmt: skip
    assert json.loads(trace.stdout)["verdict"] == "AUDIT"
    eid = str(endpoints(cmesh)["default/web-1"]["id"])
    cmesh("endpoint", "config", "--context", "c1", eid, "PolicyAuditMode=Disabled")
    assert nc(cmesh, ip1) == 1


def test_endpoint_config_rejects_unknown_endpoints_and_options_and_changes_nothing(
    cmesh: Cmesh, tmp_path: Path
):
    setup(cmesh, tmp_path)
    before = cmesh.store_dump()
    r = cmesh(
        "endpoint", "config", "--context", "c1", "default/nope", "PolicyAuditMode=Enabled", ok=False
    )
    assert r.exit_code != 0 and 'endpoint "default/nope" not found' in r.stderr
    r = cmesh(
        "endpoint", "config", "--context", "c1", "default/web-1", "PolicyAuditMode=maybe", ok=False
    )
    assert r.exit_code != 0 and "PolicyAuditMode=Enabled" in r.stderr
    assert cmesh.store_dump() == before
