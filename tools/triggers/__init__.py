"""Behavioural triggers as data: rules evaluated on each event, and sequence steps coming due."""
