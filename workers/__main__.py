"""``python -m workers``: one worker process (spawned by the supervisor), or ``--canary``."""

from __future__ import annotations

import sys

from workers.process import main

sys.exit(main(sys.argv[1:]))
