"""Cluster services every workload cluster runs: GPU Operator, storage and registry settings."""
