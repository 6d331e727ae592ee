"""Entry point the Pulumi engine (and `kfvs check`) starts: serves the pack and prints its port."""

from pulumi_policy import PolicyPack

from policies.quotas.rules import POLICIES

PolicyPack(name="kubeflow-vsphere-quotas", policies=POLICIES)
