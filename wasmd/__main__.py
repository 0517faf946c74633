import sys

from wasmd.cli import main

sys.exit(main())
