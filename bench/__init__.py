"""Benchmarks: kfvs plan and check on generated environments, against the SDK's own floor."""
