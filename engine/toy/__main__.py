"""``python -m engine.toy --help``."""
import sys

from engine.toy.cli import main

sys.exit(main())
