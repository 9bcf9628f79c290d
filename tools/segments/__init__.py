"""Segmentation: rule segments from YAML, live and batch assignment, behavioural clusters."""
