"""Policy pack `kubeflow-vsphere-quotas`: every team inside the budget the platform grants it."""
