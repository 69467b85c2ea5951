#!/usr/bin/python3
"""ca-emu: a local emulator of Anthropic's Messages API (code execution
tool), Files API and Message Batches API, for the tests of the ca toolkit
and for a dry run without a key (man ca-emu).

The code lives in the caemu package: beside this file in the source tree
(emu/caemu), or in LIBDIR once installed (`make install` writes it into
_libdir below; PREFIX/lib/ca, which is also ../lib/ca from here, by
default).  This entry point puts that directory first on the module path
and runs it, so `python3 emu/ca-emu.py` and an installed `ca-emu` work.
"""

import os
import sys

_libdir = ""
_here = os.path.dirname(os.path.realpath(__file__))
for _d in (_libdir, _here, os.path.join(_here, "..", "lib", "ca")):
    if _d and os.path.isfile(os.path.join(_d, "caemu", "__init__.py")):
        sys.path.insert(0, _d)
        break

from caemu import main  # noqa: E402  (the path above must come first)

if __name__ == "__main__":
    sys.exit(main())
