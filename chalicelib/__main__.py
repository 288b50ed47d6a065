import os
import sys

from .cli import main

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:
    # Whoever read the output (head, less) stopped reading: end quietly, with the status a shell
    # gives a process killed by SIGPIPE, rather than a traceback about it.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 141
sys.exit(code)
