"""Seed 004's screenplay drafts, generated media and typed tasks (the gateway's documents)."""
