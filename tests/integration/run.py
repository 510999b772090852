#!/usr/bin/env python3
"""Runs sluice's integration tests: every `test_*` function of tests/integration/test_*.py.

    python3 tests/integration/run.py --build build [-k NAME]... [--keep] [-v]

Each test gets a fresh temp dir and a harness.T; it prints one line per test (PASS/FAIL/SKIP/XFAIL,
time, reason) and ends with "N passed, N failed, N skipped". Exit status 1 when any test failed.
Under a sanitizer build (build dir name containing "asan"/"tsan", or SLUICE_SANITIZER) deadlines
are scaled (SLUICE_TEST_SCALE overrides) and a sanitizer report in any output fails the test.
"""
import argparse
import importlib
import inspect
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

PER_TEST_LIMIT = 60  # seconds (scaled): a hung test is stopped and failed


class TestTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise TestTimeout()


def _import_error(tb):
    def test_import(t):
        raise AssertionError("cannot import the module:\n" + tb)
    return test_import


def discover(selectors):
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        try:
            mod = importlib.import_module(fn[:-3])
        except Exception:  # a broken module is one failing test, not a crashed runner
            tests.append((f"{fn[:-3]}.<import>", _import_error(traceback.format_exc())))
            continue
        funcs = [f for n, f in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == mod.__name__]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        for f in funcs:
            full = f"{mod.__name__}.{f.__name__}"
            if selectors and not any(k in full for k in selectors):
                continue
            tests.append((full, f))
    return tests


def detect_sanitizer(build):
    env = os.environ.get("SLUICE_SANITIZER")
    if env:
        return env if env in ("asan", "tsan") else None
    base = os.path.basename(os.path.normpath(build))
    for s in ("tsan", "asan"):
        if s in base:
            return s
    return None


def run_one(full, fn, args, scale, sanitizer):
    tmp = tempfile.mkdtemp(prefix=f"sluice-it-{fn.__name__}-")
    t = harness.T(args.build, tmp, scale, sanitizer)
    status, reason, detail = "PASS", "", ""
    start = time.monotonic()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(PER_TEST_LIMIT * scale))
    try:
        try:
            fn(t)
        finally:
            signal.alarm(0)
    except harness.Skip as e:
        status, reason = "SKIP", str(e)
    except TestTimeout:
        status, reason = "FAIL", f"test exceeded {PER_TEST_LIMIT * scale}s"
    except AssertionError as e:
        status, reason = "FAIL", str(e) or "assertion failed"
        tb = traceback.extract_tb(e.__traceback__)
        here = [fr for fr in tb if os.path.basename(fr.filename).startswith("test_")]
        if here:
            reason += f" [{os.path.basename(here[-1].filename)}:{here[-1].lineno}]"
    except Exception as e:  # an unexpected error is a failure too, with its traceback
        status, reason = "FAIL", f"{type(e).__name__}: {e}"
        detail = traceback.format_exc()
    try:
        problems = t.cleanup()
    except Exception as e:
        problems = [f"cleanup failed: {type(e).__name__}: {e}"]
    if problems and status != "SKIP":
        if status == "PASS":
            status, reason = "FAIL", "; ".join(problems)
        else:
            reason += " (also: " + "; ".join(problems) + ")"
    xf = getattr(fn, "xfail", None)
    if xf:
        if status == "FAIL":
            status, reason = "XFAIL", f"{xf} -- {reason}"
        elif status == "PASS":
            status, reason = "FAIL", f"XPASS: marked xfail ({xf}) but passed; remove the mark"
    elapsed = time.monotonic() - start
    line = f"{status:5} {full:56} {elapsed:6.2f}s"
    if reason:
        line += f"  {reason}"
    print(line, flush=True)
    if status == "FAIL":
        if detail:
            print(_indent(detail.rstrip()))
        for p in t._procs:
            if isinstance(p, harness.Sluice) or args.verbose:
                print(f"    --- tail of {p.logpath}")
                print(_indent(p.tail(40) or "(empty)"))
        print(f"    --- files kept in {tmp}", flush=True)
    elif not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return status


def _indent(text):
    return "\n".join("    " + ln for ln in text.splitlines())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="build dir with sluice and backend")
    ap.add_argument("-k", action="append", default=[], metavar="NAME",
                    help="run only tests whose module.function contains NAME (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep temp dirs of passing tests")
    ap.add_argument("-v", "--verbose", action="store_true", help="on failure show every log")
    args = ap.parse_args()

    for b in ("sluice", "backend"):
        path = os.path.join(args.build, b)
        if not os.access(path, os.X_OK):
            print(f"{path} not found: run `make all` (or make BUILD={args.build} all) first")
            print("0 passed, 1 failed")
            return 1
    sanitizer = detect_sanitizer(args.build)
    scale = float(os.environ.get("SLUICE_TEST_SCALE") or
                  {"asan": 2.0, "tsan": 4.0}.get(sanitizer, 1.0))
    tests = discover(args.k)
    print(f"sluice integration tests: {len(tests)} test(s), build {args.build}"
          f"{', sanitizer ' + sanitizer if sanitizer else ''}, time scale {scale:g}", flush=True)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0, "XFAIL": 0}
    t0 = time.monotonic()
    for full, fn in tests:
        counts[run_one(full, fn, args, scale, sanitizer)] += 1
    harness._kill_leftovers()
    print(f"total time {time.monotonic() - t0:.1f}s"
          + (f"; {counts['XFAIL']} expected failure(s) (known bugs) counted as skipped"
             if counts["XFAIL"] else ""))
    line = f"{counts['PASS']} passed, {counts['FAIL']} failed"
    skipped = counts["SKIP"] + counts["XFAIL"]
    if skipped:
        line += f", {skipped} skipped"
    print(line, flush=True)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
