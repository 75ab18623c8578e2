#!/usr/bin/env python3
"""neuroreel's front door: render scenes of superposition and polysemanticity from real models.

    python render.py --list
    python render.py --all
    python render.py --scene toy_wtw --quality high --out talk/
"""
import sys

from pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
