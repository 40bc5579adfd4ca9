"""Benchmarks: speed measured as ratios within one run, never as timed assertions in tests.

Each ``bench/<name>.py`` exposes ``main()``; ``python -m bench`` runs them all, and
``python -m bench.<name>`` runs one.
"""
