"""Kubeflow: one component per application, pinned to upstream, with explicit prerequisites."""
