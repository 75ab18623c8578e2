"""Manim scenes: each reads one timeline and draws it; none computes anything about networks.

This layer knows Manim and numpy, never torch (see tests/test_layers.py).
"""
