"""Propagation: listing status over time, and the measures the rules give each subject."""
