"""The rendering pipeline behind render.py: catalogue, timeline building, rendering, outputs."""
