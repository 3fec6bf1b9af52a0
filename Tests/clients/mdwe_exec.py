"""Runs a command as systemd's MemoryDenyWriteExecute=yes runs a service on Linux 6.3 and later:
PR_SET_MDWE with PR_MDWE_REFUSE_EXEC_GAIN (no memory may become executable once writable), then exec.
Exit 3 when the kernel has no such switch."""
import ctypes
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    print("PR_SET_MDWE: errno %d" % ctypes.get_errno(), file=sys.stderr)
    sys.exit(3)
os.execv(sys.argv[1], sys.argv[1:])
