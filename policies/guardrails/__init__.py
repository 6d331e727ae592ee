"""Policy pack `kubeflow-vsphere-guardrails`: safety rules every stack must keep."""
