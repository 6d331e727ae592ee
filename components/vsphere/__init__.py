"""vSphere layer: inventory lookups, tags, VM classes, Supervisor namespaces, VMs and GPU pools."""
