#!/usr/bin/python3
"""ca-emu: a local emulator of Anthropic's Messages API (code execution
tool), Files API and Message Batches API, for the tests of the ca toolkit.

The code lives in the caemu package beside this file; this entry point
only puts that directory first on the module path and runs it, so that
`python3 emu/ca-emu.py --port 0 ...` works from anywhere.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from caemu import main  # noqa: E402  (the path above must come first)

if __name__ == "__main__":
    sys.exit(main())
