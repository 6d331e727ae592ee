"""NVIDIA data-center GPUs by the board name their vGPU profiles carry (`grid_<board>-<framebuffer><series>`).

NVIDIA names a vGPU type after the board: the A100 40GB's compute profiles are `A100-40C` ... (vCenter:
`grid_a100-40c`), the A100 80GB's are `A100D-80C`, `A100D-40C` ... (`grid_a100d-40c`). A profile of one
board does not exist on another, so `grid_a100-40c` next to 80 GB A100s is a class no host can serve.
Source: NVIDIA Virtual GPU Software User Guide, "Virtual GPU Types for Supported GPUs"
(https://docs.nvidia.com/vgpu/latest/grid-vgpu-user-guide/index.html#virtual-gpu-types-grid).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PROFILE = re.compile(r"^grid_(?P<board>[a-z0-9]+)-(?P<fb>\d+)(?P<series>[a-z])$")


@dataclass(frozen=True)
class GpuBoard:
    """One GPU board: its vGPU board name and framebuffer."""

    name: str
    display: str
    memory_gib: int

    @property
    def family(self) -> str:
        """`a100d` -> `a100`: boards of one family share a chip but not their profiles."""
        found = re.match(r"[a-z]+\d+", self.name)
        return found.group(0) if found else self.name


GPU_BOARDS: tuple[GpuBoard, ...] = (
    GpuBoard("a100", "A100 40GB", 40),
    GpuBoard("a100d", "A100 80GB", 80),
    GpuBoard("a30", "A30", 24),
    GpuBoard("a40", "A40", 48),
    GpuBoard("a10", "A10", 24),
    GpuBoard("a16", "A16", 16),
    GpuBoard("a2", "A2", 16),
    GpuBoard("l4", "L4", 24),
    GpuBoard("l40", "L40", 48),
    GpuBoard("l40s", "L40S", 48),
    GpuBoard("h100", "H100 PCIe 80GB", 80),
    GpuBoard("h100xm", "H100 SXM5 80GB", 80),
    GpuBoard("h100l", "H100 NVL", 94),
    GpuBoard("t4", "T4", 16),
)


@dataclass(frozen=True)
class ProfileBoard:
    """What a vGPU profile name says: the board, the framebuffer per vGPU and the series (`c`: compute)."""

    name: str
    framebuffer_gib: int
    series: str


def board_of(profile: str) -> ProfileBoard | None:
    """`grid_a100d-40c` -> (a100d, 40, c); None for a name that is not a time-sliced vGPU profile."""
    found = _PROFILE.match(profile)
    if found is None:
        return None
    return ProfileBoard(found["board"], int(found["fb"]), found["series"])


def gpu_board(name: str) -> GpuBoard | None:
    """The known board by its vGPU board name."""
    return next((b for b in GPU_BOARDS if b.name == name), None)
