"""The marks the program puts on what a team owns (kept equal to components/labels.py by a test;
policy packs import neither the program nor its components)."""

TEAM_LABEL = "kubeflow-vsphere.io/team"
TEAM_EXTRA_CONFIG = "guestinfo.kubeflow-vsphere.team"
"""vSphere VMs carry their team in extraConfig: known at preview, unlike the IDs of new tags."""
