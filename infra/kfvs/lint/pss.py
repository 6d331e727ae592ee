"""The Pod Security Standards (baseline and restricted, version `latest`), as the PodSecurity admission checks them.

Each check returns the reason a pod breaks it, worded like the admission plugin's own message, or None. Sources:
https://kubernetes.io/docs/concepts/security/pod-security-standards/ and the checks of k8s.io/pod-security-admission.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from infra.kfvs.lint.model import as_dict, as_list, containers

LEVELS = ("privileged", "baseline", "restricted")

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
RESTRICTED_VOLUMES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
_VOLUME_SOURCE_KEYS = frozenset({"name"})

Check = Callable[[dict[str, Any], dict[str, Any]], str | None]


def _sc(container: dict[str, Any]) -> dict[str, Any]:
    return as_dict(container.get("securityContext"))


def _names(names: list[str]) -> str:
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"container{'s' if len(names) > 1 else ''} {quoted}"


def _offending(spec: dict[str, Any], bad: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [str(c.get("name")) for _, c in containers(spec) if bad(c)]


def host_process(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    pod = as_dict(as_dict(spec.get("securityContext")).get("windowsOptions")).get("hostProcess") is True
    names = _offending(spec, lambda c: as_dict(_sc(c).get("windowsOptions")).get("hostProcess") is True)
    if pod or names:
        return "hostProcess (pod or " + (_names(names) if names else "containers") + " must not set hostProcess=true)"
    return None


def host_namespaces(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    used = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k) is True]
    return f"host namespaces ({', '.join(used)})" if used else None


def privileged(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    names = _offending(spec, lambda c: _sc(c).get("privileged") is True)
    return f"privileged ({_names(names)} must not set securityContext.privileged=true)" if names else None


def baseline_capabilities(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    added: dict[str, list[str]] = {}
    for _field, c in containers(spec):
        for cap in as_list(as_dict(_sc(c).get("capabilities")).get("add")):
            if str(cap) not in BASELINE_CAPABILITIES:
                added.setdefault(str(c.get("name")), []).append(str(cap))
    if not added:
        return None
    caps = sorted({cap for caps in added.values() for cap in caps})
    return (
        f"non-default capabilities ({_names(sorted(added))} must not include "
        f"{', '.join(repr(c).replace(chr(39), chr(34)) for c in caps)} in securityContext.capabilities.add)"
    )


def host_path(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    names = [str(v.get("name")) for v in as_list(spec.get("volumes")) if isinstance(v, dict) and "hostPath" in v]
    return f"hostPath volumes ({', '.join(repr(n) for n in names)})".replace("'", '"') if names else None


def host_ports(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    used = sorted(
        {
            int(p["hostPort"])
            for _f, c in containers(spec)
            for p in as_list(c.get("ports"))
            if isinstance(p, dict) and isinstance(p.get("hostPort"), int) and p["hostPort"] != 0
        }
    )
    return f"hostPort (hostPorts {', '.join(map(str, used))})" if used else None


def app_armor(meta: dict[str, Any], spec: dict[str, Any]) -> str | None:
    bad = [
        f"{k.rpartition('/')[2]}={v}"
        for k, v in as_dict(meta.get("annotations")).items()
        if str(k).startswith("container.apparmor.security.beta.kubernetes.io/")
        and not (v == "runtime/default" or str(v).startswith("localhost/"))
    ]
    profiles = [as_dict(as_dict(spec.get("securityContext")).get("appArmorProfile"))]
    profiles += [as_dict(_sc(c).get("appArmorProfile")) for _f, c in containers(spec)]
    if any(p.get("type") == "Unconfined" for p in profiles):
        bad.append("appArmorProfile.type=Unconfined")
    return f"forbidden AppArmor profiles ({', '.join(sorted(bad))})" if bad else None


def se_linux(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    options = [as_dict(as_dict(spec.get("securityContext")).get("seLinuxOptions"))]
    options += [as_dict(_sc(c).get("seLinuxOptions")) for _f, c in containers(spec)]
    for o in options:
        if str(o.get("type") or "") not in SELINUX_TYPES or o.get("user") or o.get("role"):
            return "seLinuxOptions (type must be container_t or similar; user and role must be unset)"
    return None


def proc_mount(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    names = _offending(spec, lambda c: _sc(c).get("procMount") not in (None, "Default"))
    return f"procMount ({_names(names)} must not set securityContext.procMount)" if names else None


def _seccomp_types(spec: dict[str, Any]) -> tuple[Any, list[tuple[str, Any]]]:
    pod = as_dict(as_dict(spec.get("securityContext")).get("seccompProfile")).get("type")
    per = [(str(c.get("name")), as_dict(_sc(c).get("seccompProfile")).get("type")) for _f, c in containers(spec)]
    return pod, per


def baseline_seccomp(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    pod, per = _seccomp_types(spec)
    names = [n for n, t in per if t == "Unconfined"]
    if pod == "Unconfined" or names:
        return (
            "seccompProfile (pod or " + (_names(names) if names else "containers") + ' must not set type "Unconfined")'
        )
    return None


def sysctls(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    bad = [
        str(s.get("name"))
        for s in as_list(as_dict(spec.get("securityContext")).get("sysctls"))
        if isinstance(s, dict) and s.get("name") not in SAFE_SYSCTLS
    ]
    return f"forbidden sysctls ({', '.join(bad)})" if bad else None


def volume_types(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    bad = []
    for v in as_list(spec.get("volumes")):
        if isinstance(v, dict):
            kinds = [k for k in v if k not in _VOLUME_SOURCE_KEYS]
            bad += [f'"{v.get("name")}" uses {k}' for k in kinds if k not in RESTRICTED_VOLUMES]
    return f"restricted volume types ({', '.join(bad)})" if bad else None


def privilege_escalation(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    names = _offending(spec, lambda c: _sc(c).get("allowPrivilegeEscalation") is not False)
    if names:
        must = f"{_names(names)} must set securityContext.allowPrivilegeEscalation=false"
        return f"allowPrivilegeEscalation != false ({must})"
    return None


def run_as_non_root(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    pod = as_dict(spec.get("securityContext")).get("runAsNonRoot")
    explicit_false = _offending(spec, lambda c: _sc(c).get("runAsNonRoot") is False)
    unset = [] if pod is True else _offending(spec, lambda c: _sc(c).get("runAsNonRoot") is None)
    if pod is False or explicit_false or unset:
        names = sorted(set(explicit_false + unset))
        who = f"pod or {_names(names)}" if names else "pod"
        return f"runAsNonRoot != true ({who} must set securityContext.runAsNonRoot=true)"
    return None


def run_as_user(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    pod = as_dict(spec.get("securityContext")).get("runAsUser") == 0
    names = _offending(spec, lambda c: _sc(c).get("runAsUser") == 0)
    if pod or names:
        who = _names(names) if names else "pod"
        return f"runAsUser=0 ({who} must not set runAsUser=0)"
    return None


def restricted_seccomp(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    allowed = ("RuntimeDefault", "Localhost")
    pod, per = _seccomp_types(spec)
    names = [n for n, t in per if t not in allowed and not (t is None and pod in allowed)]
    if names:
        must = f'{_names(names)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"'
        return f"seccompProfile (pod or {must})"
    return None


def restricted_capabilities(_: dict[str, Any], spec: dict[str, Any]) -> str | None:
    undropped, added = [], []
    for _f, c in containers(spec):
        caps = as_dict(_sc(c).get("capabilities"))
        if "ALL" not in [str(x) for x in as_list(caps.get("drop"))]:
            undropped.append(str(c.get("name")))
        if any(str(x) != "NET_BIND_SERVICE" for x in as_list(caps.get("add"))):
            added.append(str(c.get("name")))
    parts = []
    if undropped:
        parts.append(f'{_names(undropped)} must set securityContext.capabilities.drop=["ALL"]')
    if added:
        parts.append(f'{_names(added)} must not include capabilities other than "NET_BIND_SERVICE" in add')
    return f"unrestricted capabilities ({'; '.join(parts)})".replace(";", ",") if parts else None


BASELINE: tuple[Check, ...] = (
    host_process,
    host_namespaces,
    privileged,
    baseline_capabilities,
    host_path,
    host_ports,
    app_armor,
    se_linux,
    proc_mount,
    baseline_seccomp,
    sysctls,
)
RESTRICTED: tuple[Check, ...] = (
    *BASELINE,
    volume_types,
    privilege_escalation,
    run_as_non_root,
    run_as_user,
    restricted_seccomp,
    restricted_capabilities,
)
_WINDOWS_EXEMPT = (privilege_escalation, restricted_seccomp, restricted_capabilities)


def violations(level: str, meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """Why a pod (metadata, spec) is refused at `level`; empty when it is admitted."""
    if level not in ("baseline", "restricted"):
        return []
    checks: Iterator[Check] = iter(BASELINE if level == "baseline" else RESTRICTED)
    windows = as_dict(spec.get("os")).get("name") == "windows"
    found = []
    for check in checks:
        if windows and check in _WINDOWS_EXEMPT:
            continue
        reason = check(meta, spec)
        if reason:
            found.append(reason)
    return found
