#!/usr/bin/python3
"""hangar check: what a script does at import time that spawn and forkserver would repeat.

Reads SCRIPT with CPython's `ast` (nothing is imported or run) and lists every statement
outside `if __name__ == "__main__":` that starts processes, pools, executors, threads or
clusters, runs commands, or opens files, sockets and connections. Under the spawn and
forkserver start methods every child process re-runs the main script as `__mp_main__`, so
each of those statements runs again in every child. Then it says which lines to move under
the guard, once for the whole block.

Exit status: 0 nothing found, 1 findings, 2 bad input (one line on stderr).
"""

import argparse
import ast
import json
import os
import sys

SCHEMA = "hangar.check/1"
GUARD = 'if __name__ == "__main__":'

# ---- what calls do ------------------------------------------------------------------------
# kind -> why it matters when a spawn or forkserver child re-runs the line.
WHY = {
    "process": "under spawn and forkserver every child process re-runs the main script as "
               "__mp_main__ and reaches this line again: starting processes during the "
               "child's own start-up fails with the \"bootstrapping phase\" RuntimeError, and "
               "a pool or cluster replaces the dead worker, so the run loops forever or "
               "breaks; under fork it runs once",
    "cluster": "under spawn and forkserver every child process re-runs the main script as "
               "__mp_main__ and starts the whole cluster or workflow again inside the child, "
               "whose own worker starts then fail or loop",
    "start-method": "under spawn and forkserver every child re-runs this line after "
                    "multiprocessing has already set the child's context, and dies with "
                    "RuntimeError: context has already been set (force=True avoids it)",
    "fork": "under spawn and forkserver every child re-runs this line and forks again",
    "thread": "under spawn and forkserver every child re-runs this line and starts its own "
              "copy of the thread, which can keep the child from exiting; under fork, a "
              "thread running at the fork can leave its locks held in the child",
    "subprocess": "under spawn and forkserver every child re-runs this line and runs the "
                  "command again",
    "socket": "under spawn and forkserver every child re-runs this line and opens its own "
              "socket (a second bind to the same address fails: address already in use)",
    "connection": "under spawn and forkserver every child re-runs this line and opens its "
                  "own connection again",
    "shared": "under spawn and forkserver every child re-runs this line and makes a new "
              "object of its own, unrelated to the parent's: a child that uses this global "
              "instead of receiving it as an argument never reaches the parent",
    "file": "under spawn and forkserver every child re-runs this line and opens the file "
            "again: writing children truncate or interleave what the parent wrote",
    "file-read": "under spawn and forkserver every child re-runs this line and reads the "
                 "file again: harmless when the children need the data and it does not "
                 "change, repeated work otherwise",
}
# Most severe first: a call that leads to several actions is reported by the first of these.
SEVERITY = ["process", "cluster", "start-method", "fork", "thread", "subprocess", "socket",
            "connection", "shared", "file", "file-read"]

_PROCESS_POOL = ("process", "starts a process pool")
_COMMAND = ("subprocess", "runs a command")
_SHARED = ("shared", "creates a multiprocessing {name}")
_SOCKET = ("socket", "opens a socket")
_REQUEST = ("connection", "makes a network request")
_DASK_CLUSTER = ("cluster", "starts a dask LocalCluster (a scheduler, and worker processes "
                            "that dask starts with spawn even when fork is the default)")
_PARSL = ("cluster", "loads a Parsl configuration, which starts its executors' processes "
                     "(interchange, worker pools, monitoring)")

# Calls that act when called. Names are canonical (see canonical()).
ACTIONS = {
    "multiprocessing.Pool": _PROCESS_POOL,
    "multiprocessing.Manager": ("process", "starts a manager server process"),
    "multiprocessing.pool.ThreadPool": ("thread", "starts a thread pool"),
    "multiprocessing.dummy.Pool": ("thread", "starts a thread pool"),
    "concurrent.futures.ProcessPoolExecutor": ("process", "starts a process pool executor"),
    "concurrent.futures.ThreadPoolExecutor": ("thread", "starts a thread pool executor"),
    "_thread.start_new_thread": ("thread", "starts a thread"),
    "_thread.start_new": ("thread", "starts a thread"),
    "os.fork": ("fork", "forks the process"),
    "os.forkpty": ("fork", "forks the process"),
    "pty.fork": ("fork", "forks the process"),
    "os.system": _COMMAND, "os.popen": _COMMAND, "os.posix_spawn": _COMMAND,
    "os.posix_spawnp": _COMMAND, "pty.spawn": _COMMAND,
    "subprocess.Popen": _COMMAND, "subprocess.run": _COMMAND, "subprocess.call": _COMMAND,
    "subprocess.check_call": _COMMAND, "subprocess.check_output": _COMMAND,
    "subprocess.getoutput": _COMMAND, "subprocess.getstatusoutput": _COMMAND,
    "asyncio.create_subprocess_exec": _COMMAND, "asyncio.create_subprocess_shell": _COMMAND,
    "socket.socket": _SOCKET, "socket.socketpair": _SOCKET, "socket.fromfd": _SOCKET,
    "socket.create_server": ("socket", "opens a listening socket"),
    "socket.create_connection": ("connection", "opens a network connection"),
    "multiprocessing.connection.Listener": ("socket", "opens a listening socket"),
    "multiprocessing.connection.Client": ("connection", "opens a connection"),
    "http.client.HTTPConnection": ("connection", "opens an HTTP connection"),
    "http.client.HTTPSConnection": ("connection", "opens an HTTPS connection"),
    "urllib.request.urlopen": _REQUEST,
    "requests.get": _REQUEST, "requests.post": _REQUEST, "requests.put": _REQUEST,
    "requests.patch": _REQUEST, "requests.delete": _REQUEST, "requests.head": _REQUEST,
    "requests.request": _REQUEST,
    "sqlite3.connect": ("connection", "opens a database connection"),
    "smtplib.SMTP": ("connection", "opens an SMTP connection"),
    "ftplib.FTP": ("connection", "opens an FTP connection"),
    "os.open": ("file", "opens a file"),
    "tempfile.NamedTemporaryFile": ("file", "creates a temporary file"),
    "tempfile.TemporaryFile": ("file", "creates a temporary file"),
    "tempfile.mkstemp": ("file", "creates a temporary file"),
    "logging.FileHandler": ("file", "opens a log file"),
    "logging.handlers.RotatingFileHandler": ("file", "opens a log file"),
    "logging.handlers.TimedRotatingFileHandler": ("file", "opens a log file"),
    "logging.handlers.WatchedFileHandler": ("file", "opens a log file"),
    "distributed.LocalCluster": _DASK_CLUSTER,
    "dask_jobqueue.SLURMCluster": ("cluster", "starts a dask-jobqueue cluster"),
    "dask_jobqueue.PBSCluster": ("cluster", "starts a dask-jobqueue cluster"),
    "parsl.load": _PARSL,
    "parsl.DataFlowKernel": _PARSL,
    "parsl.DataFlowKernelLoader.load": _PARSL,
    "ray.init": ("cluster", "starts or connects to a Ray cluster (raylet and worker processes)"),
}
for _name in ("Queue", "JoinableQueue", "SimpleQueue", "Pipe", "Lock", "RLock", "Semaphore",
              "BoundedSemaphore", "Condition", "Event", "Barrier", "Value", "Array",
              "RawValue", "RawArray"):
    ACTIONS["multiprocessing." + _name] = (_SHARED[0], _SHARED[1].format(name=_name))

# Constructors whose objects act later: {method: action}; "__call__" and "__enter__" too.
OBJECTS = {
    "threading.Thread": {"start": ("thread", "starts a thread")},
    "threading.Timer": {"start": ("thread", "starts a timer thread")},
    "multiprocessing.Process": {"start": ("process", "starts a process")},
    "multiprocessing.managers.BaseManager": {"start": ("process", "starts a manager server process")},
    "multiprocessing.managers.SyncManager": {"start": ("process", "starts a manager server process")},
    "joblib.Parallel": {"__call__": ("process", "runs joblib.Parallel, starting its workers"),
                        "__enter__": ("process", "enters joblib.Parallel, starting its workers")},
}
# Calls whose result behaves like a module for the names above (a context).
RETURNS = {"multiprocessing.get_context": "multiprocessing"}

_PREFIXES = [("dask.distributed.", "distributed."), ("multiprocessing.context.", "multiprocessing."),
             ("concurrent.futures.process.", "concurrent.futures."),
             ("concurrent.futures.thread.", "concurrent.futures."),
             ("multiprocessing.pool.Pool", "multiprocessing.Pool"),
             ("distributed.deploy.local.", "distributed."), ("distributed.deploy.", "distributed."),
             ("distributed.client.", "distributed."), ("joblib.parallel.", "joblib."),
             ("parsl.dataflow.dflow.", "parsl."), ("dask_jobqueue.slurm.", "dask_jobqueue."),
             ("dask_jobqueue.pbs.", "dask_jobqueue.")]
_EXACT = {"multiprocessing.SpawnProcess": "multiprocessing.Process",
          "multiprocessing.ForkProcess": "multiprocessing.Process",
          "multiprocessing.ForkServerProcess": "multiprocessing.Process",
          "multiprocessing.process.BaseProcess": "multiprocessing.Process",
          "multiprocessing.dummy.Process": "threading.Thread",
          "io.open": "builtins.open", "codecs.open": "builtins.open"}


def canonical(name):
    if name in _EXACT:
        return _EXACT[name]
    for prefix, replacement in _PREFIXES:
        if name.startswith(prefix):
            name = replacement + name[len(prefix):]
            break
    return _EXACT.get(name, name)


def _known(name):
    name = canonical(name)
    return name in ACTIONS or name in OBJECTS or name in RETURNS or name in _SPECIAL


def _const_str(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _argument(call, position, keyword):
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    if len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]):
        return call.args[position]
    return None


def _open_action(call):
    mode_node = _argument(call, 1, "mode")
    mode = "r" if mode_node is None else _const_str(mode_node)
    if mode is not None and not any(c in mode for c in "wax+"):
        return ("file-read", "opens a file for reading")
    return ("file", "opens a file for writing" if mode is not None else "opens a file")


def _client_action(call):
    address = _argument(call, 0, "address")
    if address is not None and not (isinstance(address, ast.Constant) and address.value is None):
        return ("connection", "connects a dask Client to a scheduler")
    return ("cluster", "starts a dask Client with its own LocalCluster (a scheduler, and worker "
                       "processes that dask starts with spawn even when fork is the default)")


def _basic_config_action(call):
    if any(k.arg in ("filename", "handlers") for k in call.keywords):
        return ("file", "opens a log file")
    return None


def _set_start_method_action(call):
    force = _argument(call, 1, "force")
    if isinstance(force, ast.Constant) and force.value:
        return None
    return ("start-method", "sets the start method")


_SPECIAL = {"builtins.open": _open_action, "distributed.Client": _client_action,
            "logging.basicConfig": _basic_config_action,
            "multiprocessing.set_start_method": _set_start_method_action}


# ---- the script's own functions and classes ------------------------------------------------

class Action:
    """What a call does: kind, what (a phrase), the call's text and line. A call of the
    script's own function also has `chain`, the functions it goes through, and `leaf`, the
    direct action at the end."""

    def __init__(self, kind, what, text, line, chain=(), leaf=None):
        self.kind, self.what, self.text, self.line = kind, what, text, line
        self.chain, self.leaf = list(chain), leaf


class Scope(dict):
    """Names -> values: a dotted name ("multiprocessing.Pool"), ("obj", class) for an object
    of a known class, ("func", qualname), ("class", name), ("inst", name), or None (unknown)."""

    def __init__(self, parent=None, **kwargs):
        super().__init__(**kwargs)
        self.parent = parent

    def find(self, name):
        scope = self
        while scope is not None:
            if name in scope:
                return True, scope[name]
            scope = scope.parent
        return False, None


def _definition_time(node):
    """The parts of a def, lambda or class that run when it is defined (not a function body)."""
    parts = list(getattr(node, "decorator_list", []))
    if isinstance(node, ast.ClassDef):
        return parts + node.bases + [k.value for k in node.keywords] + node.body
    return parts + node.args.defaults + [d for d in node.args.kw_defaults if d is not None]


def _calls(node):
    """Call nodes that run when `node` runs: none from function or lambda bodies."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            yield current
        if isinstance(current, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(_definition_time(current))
            continue
        stack.extend(ast.iter_child_nodes(current))


def _statements(body):
    """Every statement of a body, nested ones included, but none from nested definitions."""
    for statement in body:
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(statement, field, []))
        for handler in getattr(statement, "handlers", []):
            yield from _statements(handler.body)
        for case in getattr(statement, "cases", []):
            yield from _statements(case.body)


def _main_test(test):
    """'eq' for `__name__ == "__main__"` (either order), 'ne' for `!=`, else None."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and len(test.comparators) == 1):
        return None
    sides = (test.left, test.comparators[0])
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if _const_str(s) == "__main__"]
    if len(names) != 1 or len(mains) != 1:
        return None
    if isinstance(test.ops[0], ast.Eq):
        return "eq"
    if isinstance(test.ops[0], ast.NotEq):
        return "ne"
    return None


class Checker:
    def __init__(self, tree, source):
        self.tree, self.source = tree, source
        self.lines = source.splitlines()
        self.module = Scope()
        self.stars = []
        self.functions = {}     # qualname -> (FunctionDef, class name or None)
        self.classes = {}       # name -> ClassDef
        self.bases = {}         # class name -> resolved base values
        self.summaries = {}
        self.findings = []      # (unit, call node, Action); a unit is the statement to move
        self.guards = []        # If nodes of __name__ guards at top level

    # -- resolution --

    def value(self, node, scope):
        if isinstance(node, ast.Name):
            found, value = scope.find(node.id)
            if found:
                return value
            for module in self.stars:
                if _known(module + "." + node.id):
                    return module + "." + node.id
            if node.id in ("open", "__import__"):
                return "builtins." + node.id
            return None
        if isinstance(node, ast.Attribute):
            base = self.value(node.value, scope)
            if isinstance(base, str):
                return base + "." + node.attr
            if isinstance(base, tuple) and base[0] in ("obj", "inst", "class"):
                return ("attr", base, node.attr)
            return None
        if isinstance(node, ast.Call):
            function = self.value(node.func, scope)
            if isinstance(function, str):
                name = canonical(function)
                if name in RETURNS:
                    return RETURNS[name]
                if name in OBJECTS:
                    return ("obj", name)
            elif isinstance(function, tuple) and function[0] == "class":
                return ("inst", function[1])
            return None
        if isinstance(node, ast.NamedExpr):
            return self.value(node.value, scope)
        return None

    def _object_class(self, class_name, seen=()):
        """The known class (threading.Thread, ...) a script class derives from, or None."""
        if class_name in seen or class_name not in self.classes:
            return None
        for base in self.bases.get(class_name, []):
            if isinstance(base, str) and canonical(base) in OBJECTS:
                return canonical(base)
            if isinstance(base, tuple) and base[0] == "class":
                found = self._object_class(base[1], seen + (class_name,))
                if found:
                    return found
        return None

    def _method(self, class_name, method, seen=()):
        """The qualname of `method` on a script class, looking through script base classes."""
        if class_name in seen or class_name not in self.classes:
            return None
        if class_name + "." + method in self.functions:
            return class_name + "." + method
        for base in self.bases.get(class_name, []):
            if isinstance(base, tuple) and base[0] == "class":
                found = self._method(base[1], method, seen + (class_name,))
                if found:
                    return found
        return None

    def action(self, call, scope):
        """What calling `call` does, as an Action, or None."""
        function = self.value(call.func, scope)
        text = self._text(call)
        if isinstance(function, str):
            name = canonical(function)
            special = _SPECIAL.get(name)
            found = special(call) if special else ACTIONS.get(name)
            return Action(found[0], found[1], text, call.lineno) if found else None
        if not isinstance(function, tuple):
            return None
        if function[0] == "attr":
            (owner_kind, owner), method = function[1], function[2]
            if owner_kind == "obj":
                found = OBJECTS[owner].get(method)
                return Action(found[0], found[1], text, call.lineno) if found else None
            if owner_kind in ("inst", "class"):
                qualname = self._method(owner, method)
                if qualname and method != "start":
                    return self._through(qualname, text, call.lineno)
                known = self._object_class(owner)      # a Thread or Process subclass
                found = OBJECTS.get(known, {}).get(method) if known else None
                if found:
                    return Action(found[0], found[1], text, call.lineno)
                return self._through(qualname, text, call.lineno) if qualname else None
        if function[0] == "obj":
            found = OBJECTS[function[1]].get("__call__")
            return Action(found[0], found[1], text, call.lineno) if found else None
        if function[0] == "func":
            return self._through(function[1], text, call.lineno)
        if function[0] == "class":
            init = self._method(function[1], "__init__")
            return self._through(init, text, call.lineno) if init else None
        return None

    def _through(self, qualname, text, line):
        """The Action of a call of the script's own function `qualname`, or None."""
        inner = self.summary(qualname)
        if inner is None:
            return None
        return Action(inner.kind, inner.what, text, line, [qualname] + inner.chain,
                      inner.leaf or inner)

    def summary(self, qualname):
        """The most severe action a script function leads to (transitively), or None."""
        if qualname in self.summaries or qualname not in self.functions:
            return self.summaries.get(qualname)
        self.summaries[qualname] = None          # a recursive call adds nothing
        node, class_name = self.functions[qualname]
        scope = Scope(self.module)
        arguments = node.args.posonlyargs + node.args.args
        for argument in arguments + node.args.kwonlyargs:
            scope[argument.arg] = None
        if class_name and arguments:
            scope[arguments[0].arg] = ("inst", class_name)
        for statement in _statements(node.body):    # names bound anywhere in the body
            self._bind(statement, scope)
        best = None
        for statement in node.body:
            for call in _calls(statement):
                found = self.action(call, scope)
                if found and (best is None or SEVERITY.index(found.kind) < SEVERITY.index(best.kind)):
                    best = found
        self.summaries[qualname] = best
        return best

    # -- bindings --

    def _bind(self, statement, scope):
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    scope[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    scope[top] = top
        elif isinstance(statement, ast.ImportFrom):
            module = statement.module if not statement.level else None
            for alias in statement.names:
                if alias.name == "*":
                    if module and scope is self.module:
                        self.stars.append(module)
                    continue
                scope[alias.asname or alias.name] = module + "." + alias.name if module else None
        elif isinstance(statement, ast.Assign):
            value = self.value(statement.value, scope)
            for target in statement.targets:
                self._assign(target, value, scope)
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
            value = self.value(statement.value, scope) if isinstance(statement, ast.AnnAssign) \
                and statement.value else None
            self._assign(statement.target, value, scope)
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            self._assign(statement.target, None, scope)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                if item.optional_vars is not None:
                    self._assign(item.optional_vars, self.value(item.context_expr, scope), scope)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope[statement.name] = ("func", statement.name) if scope is self.module else None
            if scope is self.module:
                self.functions[statement.name] = (statement, None)
        elif isinstance(statement, ast.ClassDef):
            scope[statement.name] = ("class", statement.name) if scope is self.module else None
            if scope is self.module:
                self.classes[statement.name] = statement
                for item in statement.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.functions[statement.name + "." + item.name] = (item, statement.name)
        for node in ast.walk(statement):
            if isinstance(node, ast.NamedExpr):
                self._assign(node.target, self.value(node.value, scope), scope)

    def _assign(self, target, value, scope):
        if isinstance(target, ast.Name):
            scope[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._assign(element, None, scope)
        elif isinstance(target, ast.Starred):
            self._assign(target.value, None, scope)

    # -- the module's top level --

    def run(self):
        for statement in self.tree.body:
            self._statement(statement, statement, self.module, record=True)
        return self

    def _statement(self, statement, unit, scope, record):
        """Checks a statement that runs at import time; `unit` is the top-level statement it
        belongs to, or, in the unguarded branch of a top-level guard, its own statement."""
        if isinstance(statement, ast.If) and _main_test(statement.test):
            guarded, unguarded = (statement.body, statement.orelse) \
                if _main_test(statement.test) == "eq" else (statement.orelse, statement.body)
            if record and unit is statement:
                self.guards.append(statement)
            for inner in unguarded:
                self._statement(inner, inner if unit is statement else unit, scope, record)
            for inner in guarded:
                self._statement(inner, unit, scope, False)
            return
        if isinstance(statement, ast.ClassDef):
            for header in statement.decorator_list + statement.bases + [k.value for k in statement.keywords]:
                self._check(header, unit, scope, record)
            self.bases[statement.name] = [self.value(b, scope) for b in statement.bases]
            body_scope = Scope(scope)
            for inner in statement.body:                       # a class body runs at import
                self._statement(inner, unit, body_scope, record)
            self._bind(statement, scope)
            return
        nested = []
        if isinstance(statement, (ast.If, ast.While)):
            headers, nested = [statement.test], statement.body + statement.orelse
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            headers, nested = [statement.iter], statement.body + statement.orelse
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            headers, nested = [item.context_expr for item in statement.items], statement.body
        elif isinstance(statement, (ast.Try, ast.TryStar)):
            headers = [h.type for h in statement.handlers if h.type is not None]
            nested = statement.body + [s for h in statement.handlers for s in h.body] \
                + statement.orelse + statement.finalbody
        elif isinstance(statement, ast.Match):
            headers = [statement.subject] + [c.guard for c in statement.cases if c.guard]
            nested = [s for c in statement.cases for s in c.body]
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            headers = _definition_time(statement)
        else:
            headers = None
        if headers is None:
            self._check(statement, unit, scope, record)
            self._bind(statement, scope)
            return
        for header in headers:
            self._check(header, unit, scope, record)
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            self._check_enter(statement, unit, scope, record)
        self._bind(statement, scope)
        for inner in nested:
            self._statement(inner, unit, scope, record)

    def _check(self, node, unit, scope, record):
        if not record:
            return
        for call in _calls(node):
            found = self.action(call, scope)
            if found:
                self.findings.append((unit, call, found))

    def _check_enter(self, statement, unit, scope, record):
        """`with X(...) as y:` where entering X acts (joblib.Parallel)."""
        if not record:
            return
        for item in statement.items:
            value = self.value(item.context_expr, scope)
            if isinstance(value, tuple) and value[0] == "obj":
                found = OBJECTS[value[1]].get("__enter__")
                if found and not any(c is item.context_expr for _, c, _ in self.findings):
                    node = item.context_expr
                    self.findings.append((unit, node, Action(found[0], found[1], self._text(node),
                                                              node.lineno)))

    def _text(self, node, limit=200):
        text = ast.get_source_segment(self.source, node) or ""
        text = " ".join(text.split())
        return text if len(text) <= limit else text[:limit - 3] + "..."

    def line_text(self, line, limit=70):
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        return text if len(text) <= limit else text[:limit - 3] + "..."


# ---- report ------------------------------------------------------------------------------

def describe(action):
    """'starts a process pool', or '`main()` calls `run()`, which starts a process pool
    (`Pool(4)`, line 9)' for a call of the script's own functions."""
    if not action.chain:
        return action.what
    text = "`%s()` " % action.chain[0]
    for name in action.chain[1:]:
        text += "calls `%s()`, which " % name
    call = action.leaf.text if len(action.leaf.text) <= 60 else action.leaf.text[:57] + "..."
    return text + "%s (`%s`, line %d)" % (action.leaf.what, call, action.leaf.line)


def _bound_names(statement):
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _read_names(statement):
    return {node.id for node in ast.walk(statement)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _is_definition(statement):
    """Statements that children need and that do nothing: they stay above the guard."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                              ast.ClassDef)):
        return True
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        return statement.value is not None and not any(True for _ in _calls(statement.value))
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def plan_fix(checker):
    """Which statements move under the guard: the top-level ones from the first that acts to
    the last, plus later ones that use names those bound; definitions in between stay above
    the guard, where the children need them. Statements that act in the unguarded branch of a
    guard move too. Returns (moved, kept): lists of (index in the module body, statement);
    the index is None for a statement inside a guard's branch."""
    body = checker.tree.body
    position = {id(statement): index for index, statement in enumerate(body)}
    guards = {id(guard) for guard in checker.guards}
    acting = [unit for unit, _, action in checker.findings if action.kind != "file-read"]
    seeds = sorted({position[id(u)] for u in acting if id(u) in position})
    loose = []
    for unit in acting:
        if id(unit) not in position and all(unit is not u for u in loose):
            loose.append(unit)
    if not seeds and not loose:
        return None
    reads_only = {position.get(id(u)) for u, _, _ in checker.findings} - set(seeds)
    moved, kept, bound = [], [], set()
    for index in range(seeds[0], len(body)) if seeds else ():
        statement = body[index]
        if id(statement) in guards:
            continue
        if index not in seeds:
            if index > seeds[-1] and not (_read_names(statement) & bound):
                continue
            if _is_definition(statement) or index in reads_only:
                kept.append((index, statement))
                continue
        moved.append((index, statement))
        bound |= _bound_names(statement)
    if moved:
        kept = [(i, s) for i, s in kept if i < moved[-1][0]]
    moved += [(None, statement) for statement in loose]
    moved.sort(key=lambda pair: pair[1].lineno)
    return moved, kept


def _spans(pairs):
    """Line spans of runs of consecutive top-level statements: [(first line, last line)]."""
    spans, previous = [], None
    for index, statement in pairs:
        start = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        if spans and index is not None and previous == index - 1:
            spans[-1] = (spans[-1][0], statement.end_lineno)
        else:
            spans.append((start, statement.end_lineno))
        previous = index
    return spans


def _lines(spans):
    words = ["%d" % a if a == b else "%d-%d" % (a, b) for a, b in spans]
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return ("line " if len(spans) == 1 and spans[0][0] == spans[0][1] else "lines ") + text


def fix_text(checker, plan):
    """(the whole fix as one sentence, [first line, last line], {id(unit): the part of the fix
    that moves that statement})."""
    moved, kept = plan
    top = [(i, s) for i, s in moved if i is not None]
    parts, per_unit = [], {}
    if top:
        spans = _spans(top)
        if checker.guards:
            guard = checker.guards[0]
            before = any(s.end_lineno < guard.lineno for _, s in top)
            after = any(s.lineno > guard.end_lineno for _, s in top)
            where = "at its start" if not after else "at its end" if not before else \
                "those above it at its start, those below at its end"
            target = "into the guarded block of the `__name__` test at line %d" % guard.lineno
            parts.append("move %s %s, %s" % (_lines(spans), target, where))
        else:
            target = "under `%s`" % GUARD
            parts.append("move %s %s" % (_lines(spans), target))
        if kept:
            parts[-1] += "; keep %s (definitions) above it, where the children need them" % (
                _lines(_spans(kept)))
        for _, statement in top:
            span = next(sp for sp in spans if sp[0] <= statement.lineno <= sp[1])
            per_unit[id(statement)] = "move it %s, with the rest of %s" % (target, _lines([span]))
    for guard in checker.guards:
        inside = [(None, s) for i, s in moved
                  if i is None and guard.lineno <= s.lineno <= guard.end_lineno]
        if inside:
            branch = "from the unguarded branch of the `__name__` test at line %d into its " \
                     "guarded branch" % guard.lineno
            parts.append("move %s %s" % (_lines(_spans(inside)), branch))
            for _, statement in inside:
                per_unit[id(statement)] = "move it " + branch
    spans = _spans(moved)
    return "; ".join(parts), [spans[0][0], spans[-1][1]], per_unit


def report(path, checker):
    plan = plan_fix(checker)
    fix, per_unit = None, {}
    if plan:
        text, lines, per_unit = fix_text(checker, plan)
        fix = {"lines": lines, "text": text}
    items = []
    for unit, node, action in sorted(checker.findings, key=lambda f: (f[1].lineno, f[1].col_offset)):
        if action.kind == "file-read":
            per_fix = ("keep it at top level if the children use what it reads; "
                       "otherwise move it under `%s`" % GUARD)
        else:
            per_fix = per_unit.get(id(unit), "move it under `%s`" % GUARD)
            if action.kind == "shared":
                per_fix += ", and pass the object to the children as an argument"
        items.append({"line": node.lineno, "end_line": node.end_lineno, "col": node.col_offset + 1,
                      "call": checker._text(node), "kind": action.kind,
                      "message": describe(action) + " at import time",
                      "why": WHY[action.kind], "fix": per_fix})
    guard = checker.guards[0].lineno if checker.guards else None
    return {"schema": SCHEMA, "file": path, "guard": {"present": guard is not None, "line": guard},
            "findings": items, "fix": fix}


def print_text(result, checker, out):
    path = result["file"]
    for item in result["findings"]:
        out.write("%s:%d: %s: %s; %s\n" % (path, item["line"], checker.line_text(item["line"]).rstrip(":"),
                                           item["message"], item["why"]))
    if result["fix"]:
        out.write("Fix: %s\n" % result["fix"]["text"])
    count = len(result["findings"])
    guard = result["guard"]
    where = ("guard at line %d" % guard["line"]) if guard["present"] else "no __main__ guard"
    if count:
        kinds = []
        for item in result["findings"]:
            if item["kind"] not in kinds:
                kinds.append(item["kind"])
        out.write("%s: %d finding%s (%s) outside the guard; %s\n" % (
            path, count, "" if count == 1 else "s", ", ".join(kinds), where))
    else:
        out.write("%s: nothing starts or opens at import time outside the guard; %s\n" % (path, where))


# ---- command line ------------------------------------------------------------------------

class UsageError(Exception):
    pass


def load(path):
    """The script's source text, or UsageError saying in one line why it cannot be read."""
    if os.path.isdir(path):
        raise UsageError("%s: is a directory, not a Python script" % path)
    if not os.path.exists(path):
        raise UsageError("%s: no such file" % path)
    if not os.path.isfile(path):
        raise UsageError("%s: not a regular file" % path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError("%s: cannot read: %s" % (path, exc.strerror or exc)) from None
    if b"\0" in data:
        raise UsageError("%s: binary file, not a Python script" % path)
    first = data.split(b"\n", 1)[0]
    if first.startswith(b"#!") and b"python" not in first:
        shown = first.decode("utf-8", "replace")
        raise UsageError("%s: not a Python script (%s)" % (path, shown))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError("%s: not UTF-8 text (byte 0x%02x at offset %d)"
                         % (path, data[exc.start], exc.start)) from None


def check(path):
    """(result dict, checker) for the script at `path`; UsageError for bad input."""
    source = load(path)
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise UsageError("%s:%s:%s: syntax error: %s" % (path, exc.lineno or 0, exc.offset or 0,
                                                        exc.msg)) from None
    except ValueError as exc:
        raise UsageError("%s: not Python: %s" % (path, exc)) from None
    checker = Checker(tree, source).run()
    return report(path, checker), checker


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write("hangar_check: %s (see --help)\n" % message)
        sys.exit(2)


def main(argv=None):
    parser = _Parser(prog="hangar_check.py", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("script", metavar="SCRIPT.py", help="the Python script to read")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (schema %s) instead of text" % SCHEMA)
    args = parser.parse_args(argv)
    try:
        result, checker = check(args.script)
    except UsageError as exc:
        sys.stderr.write("hangar_check: %s\n" % " ".join(str(exc).split()))
        return 2
    try:
        if args.json:
            sys.stdout.write(json.dumps(result, indent=None) + "\n")
        else:
            print_text(result, checker, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:                     # `| head`: the reader has gone, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1 if result["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
