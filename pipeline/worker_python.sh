#!/bin/sh
# Starts a render worker's Python with Ctrl+C ignored from its first instruction. An ignored signal
# stays ignored across exec, and Python keeps an ignored SIGINT ignored, so a Ctrl+C that reaches
# the process group while a worker is still importing (the parent handles it) cannot print a
# KeyboardInterrupt traceback from the child. A blocked signal mask would not do: spawn resets it.
trap '' INT
exec "$NEUROREEL_WORKER_PYTHON" "$@"
