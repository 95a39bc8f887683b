"""`python -m bot.demo`."""

import sys

from bot.demo.show import main

sys.exit(main())
