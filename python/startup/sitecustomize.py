"""hangar's start-up hook, run by `site` in every Python process of a run.

hangar prepends this folder to PYTHONPATH and sets HANGAR_EVENTS_FILE and, optionally,
HANGAR_START_METHOD. With both unset this module only runs the sitecustomize it shadows.
Otherwise it:
  - makes HANGAR_START_METHOD multiprocessing's default start method, when (and only if)
    the program imports multiprocessing;
  - appends the records of EVENTS.md (hook_loaded, main_run, child_start, reimport_line,
    py_stacks, hook_error) to HANGAR_EVENTS_FILE, one write(2) per record.
It prints nothing, raises nothing into the program, and imports nothing at start-up that
the interpreter has not already imported. Contract and limits: python/README.md.
"""

import os
import sys
import time

_EVENTS = os.environ.get("HANGAR_EVENTS_FILE") or None
_REQUESTED = os.environ.get("HANGAR_START_METHOD") or None
_ROOT_MARK = "HANGAR_HOOK_ROOT"   # set in the first hooked process of a run, seen by the rest
_MAX_RECORD = 60 * 1024
_MAX_FRAMES = 64
_METHODS = ("fork", "spawn", "forkserver")


# ---- records ---------------------------------------------------------------------------

_ESCAPES = {i: "\\u%04x" % i for i in range(32)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\t"): "\\t"})


def _json(value):
    """JSON text for None, bool, int, str, list, tuple and dict with str keys."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, dict):
        return "{" + ",".join(_json(str(k)) + ":" + _json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json(v) for v in value) + "]"
    text = value if isinstance(value, str) else str(value)
    if not text.isascii():
        # Undecodable bytes (surrogate escapes in argv or file names) become U+FFFD each.
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")
        text = data.decode("utf-8", "replace")
    return '"' + text.translate(_ESCAPES) + '"'


def _write(record):
    """Appends one record as one line with one write(2); False when the file cannot be opened."""
    if not _EVENTS:
        return False
    data = (_json(record) + "\n").encode("utf-8")
    try:
        fd = os.open(_EVENTS, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_CREAT, 0o644)
    except OSError:
        return False
    try:
        os.write(fd, data)
    except OSError:
        pass
    finally:
        os.close(fd)
    return True


def _error(where, exc):
    try:
        _write({"event": "hook_error", "pid": os.getpid(), "where": where,
                "error": "%s: %s" % (type(exc).__name__, exc)})
    except Exception:
        pass


_lines_cache = {}


def _source_line(filename, lineno):
    """The stripped text of a line of a file, or "" (read directly: no imports, fork-safe)."""
    lines = _lines_cache.get(filename)
    if lines is None:
        try:
            with open(filename, "rb") as f:
                lines = f.read(4 << 20).decode("utf-8", "replace").splitlines()
        except (OSError, ValueError):
            lines = []
        if len(_lines_cache) > 64:
            _lines_cache.clear()
        _lines_cache[filename] = lines
    if 0 < lineno <= len(lines):
        return lines[lineno - 1].strip()[:300]
    return ""


# ---- how this process came to be -------------------------------------------------------

def _started_as():
    """The start method that made this process, read from its command line, or None."""
    if not sys.argv or sys.argv[0] not in ("-c", "-m"):
        return None
    command = " ".join(getattr(sys, "orig_argv", ()))
    if "from multiprocessing.spawn import spawn_main" in command:
        return "spawn"
    if "from multiprocessing.forkserver import main" in command:
        return "forkserver"      # the server; the children it forks inherit this value
    if "loky.backend.popen_loky_posix" in command:
        return "loky"
    return None


_STARTED_AS = _started_as()


# ---- lazy patches: run right after a module's own code, when the program imports it ----

class _PostImportFinder:
    """Finds nothing itself: lets the other finders find a watched module, then wraps its
    loader so that a patch runs right after the module's code. Leaves sys.meta_path when
    every watched module has been patched."""

    def __init__(self, patches):
        self._patches = patches
        self._busy = set()

    def find_spec(self, name, path=None, target=None):
        patch = self._patches.get(name)
        if patch is None or name in self._busy:
            return None
        self._busy.add(name)
        try:
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(name, path, target)
                if spec is not None:
                    break
            else:
                return None
            if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchingLoader(spec.loader, name, patch, self)
            return spec
        except Exception as exc:
            _error("find_spec " + name, exc)
            return None
        finally:
            self._busy.discard(name)

    def patched(self, name):
        self._patches.pop(name, None)
        if not self._patches:
            try:
                sys.meta_path.remove(self)
            except ValueError:
                pass


class _PatchingLoader:
    def __init__(self, loader, name, patch, finder):
        self._loader, self._name, self._patch, self._finder = loader, name, patch, finder

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # The module sees its real loader, as if the hook had never been there.
        try:
            module.__spec__.loader = self._loader
            module.__loader__ = self._loader
        except Exception as exc:
            _error("loader " + self._name, exc)
        self._loader.exec_module(module)
        self._finder.patched(self._name)
        try:
            self._patch(module)
        except Exception as exc:
            _error("patch " + self._name, exc)

    def __getattr__(self, attribute):
        return getattr(self._loader, attribute)


def _patch_mp_context(context):
    """multiprocessing.context has just run: set the default start method, watch starts."""
    if _REQUESTED in _METHODS:
        default = context._default_context
        # Only the default: a program's set_start_method() and get_context(m) still win.
        default._default_context = default.get_context(_REQUESTED)
    if _EVENTS:
        _wrap_process_start(sys.modules["multiprocessing.process"].BaseProcess)


def _wrap_process_start(base):
    start = base.start

    def hangar_start(self):
        result = start(self)
        try:
            popen = getattr(self, "_popen", None)
            method = getattr(type(popen), "method", None) or getattr(self, "_start_method", None)
            _write({"event": "child_start", "pid": os.getpid(), "method": method,
                    "requested": _REQUESTED, "child": getattr(popen, "pid", None),
                    "name": getattr(self, "_name", None)})
        except Exception as exc:
            _error("child_start", exc)
        return result

    hangar_start.__name__, hangar_start.__qualname__ = start.__name__, start.__qualname__
    hangar_start.__doc__, hangar_start.__wrapped__ = start.__doc__, start
    base.start = hangar_start


def _patch_runpy(runpy):
    """Every module runpy runs goes through runpy._run_code: spawn and forkserver children
    re-running the main script as __mp_main__, `python -m`, runners' run_path(run_name=__main__)."""
    run_code = runpy._run_code

    def hangar_run_code(code, run_globals, *args, **kwargs):
        tracer = None
        try:
            mod_name = args[1] if len(args) > 1 else kwargs.get("mod_name")
            tracer = _main_starting(code, mod_name)
        except Exception as exc:
            _error("main_run", exc)
        try:
            return run_code(code, run_globals, *args, **kwargs)
        finally:
            if tracer is not None and sys.gettrace() is tracer:
                sys.settrace(None)

    hangar_run_code.__name__ = hangar_run_code.__qualname__ = run_code.__name__
    hangar_run_code.__doc__, hangar_run_code.__wrapped__ = run_code.__doc__, run_code
    runpy._run_code = hangar_run_code


def _main_starting(code, mod_name):
    """Writes main_run for a module about to run as __main__ (root only) or __mp_main__;
    returns the trace function it installed for an __mp_main__ run, or None."""
    filename = os.path.abspath(code.co_filename)
    if mod_name == "__mp_main__":
        _write({"event": "main_run", "pid": os.getpid(), "as": "__mp_main__",
                "file": filename, "method": _STARTED_AS})
        if sys.gettrace() is not None:
            return None      # a debugger or coverage tool traces this thread: leave it alone
        tracer = _module_tracer(code, filename)
        sys.settrace(tracer)
        return tracer
    if mod_name == "__main__" and _IS_ROOT and _STARTED_AS is None:
        _write({"event": "main_run", "pid": os.getpid(), "as": "__main__",
                "file": filename, "method": None})
    return None


def _action_lines(filename):
    """The lines of the script's top-level statements that start or open something (what
    `hangar check` reports), so that a re-run line says whether it re-ran the workflow or only
    set things up (imports, definitions, constants). Read once per re-running child."""
    try:
        import importlib.util
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "hangar_check.py")
        spec = importlib.util.spec_from_file_location("_hangar_check", path)
        checker = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(checker)
        result, _ = checker.check(filename)
        lines = set()
        for finding in result["findings"]:
            lines.update(range(finding["line"], finding["end_line"] + 1))
        return lines
    except Exception as exc:
        _error("action_lines", exc)
        return set()


def _module_tracer(code, filename):
    """A global trace function that traces only the frame running `code` (the re-run main
    script's top level), writing reimport_line once per line, and removes itself when that
    frame returns. Other frames get None, so they cost one call each and no line events."""
    seen = set()
    actions = []  # read at the first line: [set of lines]

    def lines(frame, event, arg):
        if event == "line":
            lineno = frame.f_lineno
            if lineno not in seen:
                seen.add(lineno)
                try:
                    if not actions:
                        actions.append(_action_lines(filename))
                    _write({"event": "reimport_line", "pid": os.getpid(), "file": filename,
                            "line": lineno, "source": _source_line(filename, lineno),
                            "action": lineno in actions[0]})
                except Exception as exc:
                    _error("reimport_line", exc)
        elif event == "return" and sys.gettrace() is calls:
            sys.settrace(None)
        return lines

    def calls(frame, event, arg):
        if frame.f_code is code:
            return lines
        return None

    return calls


# ---- py_stacks: every other thread's Python stack at os.fork() ----------------------------
# Taken just after the fork, in the parent: the forking thread holds the GIL from before the
# fork until its after-in-parent hooks have run, so no other thread has run Python code since,
# and their Python stacks are what they were at the fork. Taking them before the fork would
# delay it and change the race being watched. "ns" (CLOCK_MONOTONIC, as the preload library's
# fork records) lets hangar join each fork with the stacks taken just after it.

def _after_fork_in_parent():
    try:
        frames = sys._current_frames()
        if len(frames) < 2:
            return
        import _thread
        me = _thread.get_ident()
        # Every frame's position first, with no I/O: reading a source line releases the GIL,
        # and the other threads would move on before their positions were read.
        positions = []
        for ident, frame in frames.items():
            if ident == me:
                continue
            stack = []
            while frame is not None and len(stack) < _MAX_FRAMES:
                code = frame.f_code
                stack.append((code.co_filename, frame.f_lineno or 0, code.co_name))
                frame = frame.f_back
            positions.append((ident, stack))
        frames = frame = None
        known = {}
        threading = sys.modules.get("threading")
        if threading is not None:
            for thread in threading.enumerate():
                known[thread.ident] = (getattr(thread, "native_id", None), thread.name)
        threads = []
        for ident, stack in positions:
            tid, name = known.get(ident, (None, None))
            threads.append({"tid": tid, "name": name,
                            "frames": [{"file": f, "line": line, "function": fn, "source": _source_line(f, line)}
                                       for f, line, fn in stack]})
        record = {"event": "py_stacks", "pid": os.getpid(), "tid": _thread.get_native_id(),
                  "ns": time.monotonic_ns(), "threads": threads}
        _write(_cut_to_size(record))
    except Exception as exc:
        _error("py_stacks", exc)


def _cut_to_size(record):
    """Keeps a py_stacks record under the size limit: fewer frames per thread, then fewer threads."""
    if len(_json(record).encode("utf-8")) <= _MAX_RECORD:
        return record
    threads = record["threads"]
    for keep in (16, 4, 1):
        for thread in threads:
            del thread["frames"][keep:]
        record["cut"] = True
        if len(_json(record).encode("utf-8")) <= _MAX_RECORD:
            return record
    while threads and len(_json(record).encode("utf-8")) > _MAX_RECORD:
        threads.pop()
    return record


# ---- start-up --------------------------------------------------------------------------

def _start():
    global _EVENTS, _IS_ROOT
    pid = os.getpid()
    if _EVENTS and not _write({"event": "hook_loaded", "pid": pid, "ppid": os.getppid(),
                               "python": "%d.%d.%d" % sys.version_info[:3],
                               "argv": list(sys.argv), "method_requested": _REQUESTED}):
        _EVENTS = None                      # cannot be opened: write nothing, change nothing
    if _REQUESTED and _REQUESTED not in _METHODS:
        _error("start-up", ValueError("HANGAR_START_METHOD is not a start method: %r" % _REQUESTED))
    if _EVENTS:
        _IS_ROOT = os.environ.get(_ROOT_MARK) != _EVENTS
        if _IS_ROOT:
            os.environ[_ROOT_MARK] = _EVENTS
            script = sys.argv[0] if sys.argv else ""
            path = os.path.abspath(script)
            # A folder's or zip's __main__.py is reported when runpy runs it.
            if (_STARTED_AS is None and script not in ("", "-", "-c", "-m")
                    and os.path.isfile(path) and not _is_zip(path)):
                _write({"event": "main_run", "pid": pid, "as": "__main__",
                        "file": path, "method": None})
        os.register_at_fork(after_in_parent=_after_fork_in_parent)
    patches = {}
    if _REQUESTED or _EVENTS:
        patches["multiprocessing.context"] = _patch_mp_context
    if _EVENTS:
        patches["runpy"] = _patch_runpy
    for name in list(patches):
        module = sys.modules.get(name)
        if module is not None:              # imported before us (a -X option, say): patch now
            patches.pop(name)(module)
    if patches:
        sys.meta_path.insert(0, _PostImportFinder(patches))


def _is_zip(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _shadowed_sitecustomize():
    """The spec of the sitecustomize that this one shadows: the next on sys.path, or None."""
    import _frozen_importlib_external
    here = os.stat(os.path.dirname(os.path.abspath(__file__)))

    def is_here(entry):
        try:
            return os.path.samestat(os.stat(entry or os.curdir), here)
        except (OSError, ValueError):
            return False

    rest = list(sys.path)
    for i, entry in enumerate(rest):
        if is_here(entry):
            rest = rest[i + 1:]
            break
    rest = [entry for entry in rest if not is_here(entry)]
    spec = _frozen_importlib_external.PathFinder.find_spec("sitecustomize", rest)
    return spec if spec is not None and spec.loader is not None else None


def _chain():
    """Runs the shadowed sitecustomize as `import sitecustomize` would have: under that name,
    once, leaving its exceptions to site, which reports them as it always does."""
    try:
        import _frozen_importlib
        spec = _shadowed_sitecustomize()
        module = spec and _frozen_importlib.module_from_spec(spec)
    except Exception as exc:
        _error("chain", exc)
        return
    if module is not None:
        sys.modules["sitecustomize"] = module     # what `import sitecustomize` leaves behind
        spec.loader.exec_module(module)


_IS_ROOT = False
if _EVENTS or _REQUESTED:
    try:
        _start()
    except Exception as _exc:
        _error("start-up", _exc)
_chain()
