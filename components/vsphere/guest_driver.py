"""cloud-init that installs and licenses the NVIDIA vGPU guest driver in a VM Service VM.

A vGPU VM needs NVIDIA's guest driver of the hosts' vGPU Manager branch and an NVIDIA License System
client token; without them its vGPU never works (a container toolkit alone does nothing). The token goes
where NVIDIA's licensing client reads it (`/etc/nvidia/ClientConfigToken/`, mode 0744) with `gridd.conf`
naming the feature type, then the installer runs and `nvidia-gridd` is restarted to acquire a licence
(NVIDIA License System User Guide, "Configuring a Licensed Client on Linux").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

TOKEN_PATH = "/etc/nvidia/ClientConfigToken/client_configuration_token.tok"  # noqa: S105 - a file path
GRIDD_CONF = "/etc/nvidia/gridd.conf"
INSTALLER = "/opt/nvidia/vgpu-guest-driver.run"


@dataclass(frozen=True, kw_only=True)
class GuestDriverSpec:
    """Where the VM downloads the guest driver installer, and the licence feature type."""

    url: str
    feature_type: int = 1


def guest_cloud_init(user_data: str | None, driver: GuestDriverSpec, token: str) -> str:
    """The user's `#cloud-config` with the driver install and licensing put first (settings check its form)."""
    config: dict[str, Any] = dict(yaml.safe_load(user_data) or {}) if user_data else {}
    files = [
        {"path": GRIDD_CONF, "permissions": "0644", "content": f"FeatureType={driver.feature_type}\n"},
        {"path": TOKEN_PATH, "permissions": "0744", "content": token},
    ]
    commands = [
        ["curl", "-fsSL", "--create-dirs", "-o", INSTALLER, driver.url],
        ["sh", INSTALLER, "--silent", "--dkms"],
        ["systemctl", "restart", "nvidia-gridd"],
    ]
    config["write_files"] = [*files, *config.get("write_files", [])]
    config["runcmd"] = [*commands, *config.get("runcmd", [])]
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)


def is_cloud_config(user_data: str) -> bool:
    """Whether user data is a `#cloud-config` mapping the driver install can be merged into."""
    if not user_data.startswith("#cloud-config"):
        return False
    try:
        return isinstance(yaml.safe_load(user_data) or {}, dict)
    except yaml.YAMLError:
        return False
