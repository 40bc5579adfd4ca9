"""Inspektorat's supervision: findings, their recommendations and the follow-up of each."""
