#!/usr/bin/env python3
"""neuroreel's front door: render scenes of superposition and polysemanticity from real models.

    python render.py --list
    python render.py --all
    python render.py --scene toy_wtw --quality high --out talk/
"""
import sys

from pipeline import interrupts

EXIT_INTERRUPTED = 130


def _main() -> int:
    # Ctrl+C can come at any moment, including while the imports below run (the first half second):
    # one line and 130, never a traceback. Later interrupts are handled (and cleaned up) by the run.
    # One that a C extension turned into another exception is still an interrupt (pipeline/interrupts.py).
    interrupts.install()
    try:
        try:
            from pipeline.cli import main
            return main()
        except BaseException as e:
            interrupts.reraise(e)
            raise
    except KeyboardInterrupt:
        print("render.py: interrupted; finished outputs are kept and listed in the manifest, nothing partial "
              "was left; run the same command again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(_main())
