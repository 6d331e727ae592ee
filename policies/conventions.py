"""The marks the program puts on what a team owns (kept equal to components/labels.py by a test;
policy packs import neither the program nor its components)."""

TEAM_LABEL = "kubeflow-vsphere.io/team"
TEAM_EXTRA_CONFIG = "guestinfo.kubeflow-vsphere.team"
"""vSphere VMs carry their team in extraConfig: known at preview, unlike the IDs of new tags."""

VGPU_MEMORY_RESERVATION = 100
"""The memory reservation (percent) of a VM class with vGPU devices: vSphere powers a vGPU VM on only with all
of its memory reserved. Settings refuse another value, the VM class catalog sets it, and the guardrails pack
flags a class without it; all three read it from here, the one module all three may import."""


LAYER_SUFFIXES = ("-infra", "-platform")
"""The stacks of one environment's two layers are `<env>-infra` and `<env>-platform` (docs/LAYERS.md)."""


def environment_of_stack(stack: str) -> str:
    """The environment of a stack named for its layer (`dev-platform` -> `dev`); any other stack is its own.

    Policy configs are per environment (`policies/<pack>/config/<env>.json`): both layers are judged against the
    same budgets, and the deploy workflow hands both `pulumi up` steps the same file."""
    for suffix in LAYER_SUFFIXES:
        if stack.endswith(suffix):
            return stack.removesuffix(suffix)
    return stack
