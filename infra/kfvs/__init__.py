"""kfvs: the offline plan, diff and policy check of a stack, with no vCenter, cluster or Pulumi CLI."""
