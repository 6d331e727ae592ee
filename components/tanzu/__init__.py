"""Tanzu (TKG Service) workload clusters on the Supervisor."""
