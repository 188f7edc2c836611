"""Data sources: each turns one wire format into the canonical tables."""
