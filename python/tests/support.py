"""Runs real programs under hangar's start-up hook, bounded, and reads their events."""

import json
import os
import signal
import subprocess
import tempfile
import time

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
PYTHON_ROOM = os.path.dirname(HERE)
HOOK = os.path.join(PYTHON_ROOM, "startup")
CHECK = os.path.join(PYTHON_ROOM, "hangar_check.py")


def clean_env(**extra):
    """This environment without PYTHON* and HANGAR_* variables, plus `extra` (None drops)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HANGAR_"))}
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Run:
    """What a bounded run left: returncode (None when it was stopped), stdout, stderr,
    events (parsed records), seconds, and stopped (True when the run was ended by us)."""

    def __init__(self, returncode, stdout, stderr, events, seconds, stopped):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.events, self.seconds, self.stopped = events, seconds, stopped

    def records(self, event, **fields):
        return [r for r in self.events
                if r["event"] == event and all(r.get(k) == v for k, v in fields.items())]


def read_events(path):
    """Parsed records of an events file; every line must be one JSON object."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    records = []
    for line in data.decode("utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break                       # a record being written right now
        records.append(json.loads(line))
    return records


def run_program(args, method=None, cwd=None, timeout=30.0, until=None, events=True,
                pythonpath=None, env=None, python_args=()):
    """Runs `python3 [python_args] args` in a new process group with the hook on PYTHONPATH,
    HANGAR_EVENTS_FILE set (unless events=False) and HANGAR_START_METHOD=method. Stops it when
    until(records) is true or after `timeout` seconds, and always kills the whole process
    group at the end, so no worker outlives the test."""
    with tempfile.TemporaryDirectory(prefix="hangar-python-test-") as work:
        return _run(work, args, method, cwd, timeout, until, events, pythonpath, env, python_args)


def _run(work, args, method, cwd, timeout, until, events, pythonpath, env, python_args):
    events_file = os.path.join(work, "events.jsonl")
    variables = clean_env(PYTHONPATH=pythonpath or HOOK,
                          HANGAR_EVENTS_FILE=events_file if events else None,
                          HANGAR_START_METHOD=method)
    variables.update(env or {})
    out_path, err_path = os.path.join(work, "stdout"), os.path.join(work, "stderr")
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.Popen([PYTHON, *python_args, *args], cwd=cwd or PROGRAMS,
                                   env=variables, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=err, start_new_session=True)
    stopped = False
    try:
        while process.poll() is None:
            if time.monotonic() - start > timeout:
                stopped = True
                break
            if until is not None and until(read_events(events_file)):
                stopped = True
                break
            time.sleep(0.05)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)
    seconds = time.monotonic() - start
    with open(out_path, "rb") as f:
        stdout = f.read().decode("utf-8", "replace")
    with open(err_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    return Run(None if stopped else process.returncode, stdout, stderr,
               read_events(events_file), seconds, stopped)


def run_check(*args, timeout=30):
    """Runs hangar_check.py; returns the CompletedProcess (text)."""
    return subprocess.run([PYTHON, CHECK, *args], cwd=PROGRAMS, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout)
