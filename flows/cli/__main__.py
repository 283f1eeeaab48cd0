"""``python -m flows.cli``: the ``varimac`` command without its installed script."""

import sys

from flows.cli import main

sys.exit(main())
