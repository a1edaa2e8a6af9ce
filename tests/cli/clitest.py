# SPDX-License-Identifier: BSD-3-Clause
"""What the tests of `ringfence lint`, `explain` and `audit` share: a check
counter that prints each failure with its detail, a file writer for --root
trees, and the one-line summary ctest shows."""
import os

PASSED = 0
FAILED = []


def check(cond, what, detail=""):
    global PASSED
    if cond:
        PASSED += 1
    else:
        FAILED.append(what)
        print("FAIL " + what)
        if detail:
            print("     " + detail.replace("\n", "\n     "))
    return cond


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)


def show(rc, out, err):
    return "exit %d\n--- stdout\n%s--- stderr\n%s" % (rc, out, err)


def summary():
    """Prints "N passed, M failed"; returns the exit status."""
    print("%d passed, %d failed" % (PASSED, len(FAILED)))
    return 1 if FAILED else 0
