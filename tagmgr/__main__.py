import sys

from tagmgr.cli import main

sys.exit(main())
