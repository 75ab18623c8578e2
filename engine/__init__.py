"""neuroreel engine: trains or loads networks, measures them, builds timelines.

This layer knows torch, numpy and scipy, never Manim (see tests/test_layers.py).
"""
