"""Kubernetes manifest checks: privileged containers, hostPath volumes, missing
resource limits, running as root, host network.

Any YAML document with ``apiVersion`` and ``kind`` is a manifest; the pod spec
is found for Pod, the workload kinds (Deployment, StatefulSet, DaemonSet,
ReplicaSet, ReplicationController, Job) and CronJob, and ``List`` items are
walked. Each finding names the object (``Deployment/web``) and the container.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from opsforge.security.findings import Finding, Location, Severity
from opsforge.security.scan.config_rules import config_check
from opsforge.security.scan.yaml_lines import key_line, line_of

__all__ = ["is_manifest", "scan_manifests"]

_WORKLOADS = {
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
}


_check = partial(config_check, tag="kubernetes")


PRIVILEGED = _check(
    "k8s.privileged", "Privileged container", Severity.HIGH,
    "A privileged container has every capability and the host's devices: it is root on the node.",
    "Remove securityContext.privileged (or set false); add only the capabilities needed.",
)  # fmt: skip
HOST_PATH = _check(
    "k8s.host-path", "hostPath volume", Severity.HIGH,
    "A hostPath volume exposes the node's filesystem to the pod (container escape, node takeover).",
    "Use emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead of hostPath.",
)  # fmt: skip
NO_LIMITS = _check(
    "k8s.no-resource-limits", "Container without CPU/memory limits", Severity.MEDIUM,
    "Without limits one container can starve the node (noisy neighbour, denial of service).",
    "Set resources.limits.cpu and resources.limits.memory (and requests) for every container.",
)  # fmt: skip
RUN_AS_ROOT = _check(
    "k8s.run-as-root", "Container may run as root", Severity.MEDIUM,
    "A container running as UID 0 is root on the node if it escapes.",
    "Set securityContext.runAsNonRoot: true and a non-zero runAsUser (pod or container level).",
)  # fmt: skip
HOST_NETWORK = _check(
    "k8s.host-network", "Pod uses the host network", Severity.HIGH,
    "hostNetwork gives the pod the node's network stack: it can bind node ports and sniff "
    "traffic, and bypasses network policies.",
    "Remove hostNetwork: true; expose the pod through a Service.",
)  # fmt: skip


def is_manifest(document: Any) -> bool:
    return isinstance(document, dict) and "apiVersion" in document and "kind" in document


def _pod_spec(obj: dict[str, Any]) -> Any:
    kind = obj.get("kind")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if kind == "Pod":
        return spec
    if kind in _WORKLOADS:
        template = spec.get("template")
        return template.get("spec") if isinstance(template, dict) else None
    if kind == "CronJob":
        job = spec.get("jobTemplate")
        job_spec = job.get("spec") if isinstance(job, dict) else None
        template = job_spec.get("template") if isinstance(job_spec, dict) else None
        return template.get("spec") if isinstance(template, dict) else None
    return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _check_pod(rel: str, name: str, pod: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []

    def at(node: Any, key: str | None = None, snippet: str = "") -> Location:
        line = key_line(node, key) if key is not None else line_of(node)
        return Location(path=rel, line=line or None, snippet=f"{name}: {snippet}")

    if pod.get("hostNetwork") is True:
        findings.append(HOST_NETWORK.at(at(pod, "hostNetwork", "hostNetwork: true")))
    for volume in pod.get("volumes") or []:
        if isinstance(volume, dict) and "hostPath" in volume:
            path = _mapping(volume.get("hostPath")).get("path", "?")
            findings.append(HOST_PATH.at(at(volume, "hostPath", f"hostPath {path}")))
    pod_context = _mapping(pod.get("securityContext"))
    containers = [
        c
        for field in ("initContainers", "containers")
        for c in (pod.get(field) or [])
        if isinstance(c, dict)
    ]
    for container in containers:
        cname = str(container.get("name", "?"))
        context = _mapping(container.get("securityContext"))
        if context.get("privileged") is True:
            node = container.get("securityContext")
            findings.append(PRIVILEGED.at(at(node, "privileged", f"container {cname}")))
        limits = _mapping(_mapping(container.get("resources")).get("limits"))
        if "cpu" not in limits or "memory" not in limits:
            missing = " and ".join(k for k in ("cpu", "memory") if k not in limits)
            findings.append(
                NO_LIMITS.at(
                    at(container, "name", f"container {cname}"),
                    message=f"container {cname} has no {missing} limit",
                )
            )
        findings.extend(_root(at, container, cname, context, pod_context))
    return findings


def _root(at: Any, container: Any, cname: str, context: dict[str, Any],
          pod_context: dict[str, Any]) -> list[Finding]:  # fmt: skip
    user = context.get("runAsUser", pod_context.get("runAsUser"))
    non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
    if user == 0:
        return [
            RUN_AS_ROOT.at(
                at(container, "name", f"container {cname}"),
                message=f"container {cname} runs as UID 0 (runAsUser: 0)",
                severity=Severity.HIGH,
            )
        ]
    if non_root is not True and not (isinstance(user, int) and user > 0):
        return [
            RUN_AS_ROOT.at(
                at(container, "name", f"container {cname}"),
                message=f"container {cname} sets neither runAsNonRoot: true nor a runAsUser > 0",
            )
        ]
    return []


def scan_manifests(rel: str, documents: list[Any]) -> list[Finding]:
    """Findings for every manifest in the YAML ``documents`` of file ``rel``."""
    findings: list[Finding] = []
    queue = [d for d in documents if is_manifest(d)]
    while queue:
        obj = queue.pop(0)
        if obj.get("kind") == "List":
            queue.extend(item for item in obj.get("items") or [] if is_manifest(item))
            continue
        pod = _pod_spec(obj)
        if isinstance(pod, dict):
            name = f"{obj.get('kind')}/{_mapping(obj.get('metadata')).get('name', '?')}"
            findings.extend(_check_pod(rel, name, pod))
    return findings
