"""hangar_check.py on the hook's test programs, the Parsl post's example and bad input."""

import importlib.util
import json
import os
import re
import tempfile
import unittest

from support import PROGRAMS, run_check

GUARD = 'if __name__ == "__main__":'


def findings(script):
    """(exit status, [(line, kind)], the JSON result) of `hangar_check.py --json script`."""
    done = run_check("--json", script)
    result = json.loads(done.stdout)
    return done.returncode, [(f["line"], f["kind"]) for f in result["findings"]], result


class Programs(unittest.TestCase):
    """The programs the hook tests run: what runs at import time is what the hook sees re-run."""

    EXPECTED = {
        "unguarded_pool.py": ([(11, "process")], [11, 14]),
        "unguarded_executor.py": ([(11, "process")], [11, 13]),
        "dask_unguarded.py": ([(10, "cluster"), (12, "connection")], [10, 15]),
        "joblib_unguarded.py": ([(15, "process")], [15, 16]),
        "set_start_method.py": ([(6, "start-method")], [6, 6]),
        "guarded_pool.py": ([], None),
        "dask_guarded.py": ([], None),
        "explicit_fork.py": ([], None),
        "print_argv.py": ([], None),
        "fork_while_locked.py": ([], None),
        "run_as_main.py": ([], None),
        "flowpkg/flow.py": ([], None),
    }

    def test_findings_and_fix_lines(self):
        for script, (expected, fix_lines) in self.EXPECTED.items():
            with self.subTest(script=script):
                status, found, result = findings(script)
                self.assertEqual(found, expected)
                self.assertEqual(status, 1 if expected else 0)
                self.assertEqual(result["fix"] and result["fix"]["lines"], fix_lines)

    def test_text_report_of_an_unguarded_pool(self):
        done = run_check("unguarded_pool.py")
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.stderr, "")
        lines = done.stdout.splitlines()
        self.assertEqual(len(lines), 3)
        self.assertTrue(lines[0].startswith(
            "unguarded_pool.py:11: pool = multiprocessing.Pool(2): starts a process pool at "
            "import time; under spawn and forkserver every child process re-runs the main "
            "script as __mp_main__"), lines[0])
        self.assertIn("bootstrapping phase", lines[0])
        self.assertEqual(lines[1], "Fix: move lines 11-14 under `%s`" % GUARD)
        self.assertEqual(lines[2], "unguarded_pool.py: 1 finding (process) outside the guard; "
                                   "no __main__ guard")

    def test_text_report_of_a_clean_script(self):
        done = run_check("guarded_pool.py")
        self.assertEqual(done.returncode, 0)
        self.assertEqual(done.stdout, "guarded_pool.py: nothing starts or opens at import time "
                                      "outside the guard; guard at line 11\n")

    def test_set_start_method_goes_to_the_start_of_the_guard(self):
        _, _, result = findings("set_start_method.py")
        self.assertEqual(result["fix"]["text"], "move line 6 into the guarded block of the "
                                                "`__name__` test at line 13, at its start")
        self.assertIn("context has already been set", result["findings"][0]["why"])

    def test_json_shape(self):
        _, _, result = findings("dask_unguarded.py")
        self.assertEqual(set(result), {"schema", "file", "guard", "findings", "fix"})
        self.assertEqual(result["schema"], "hangar.check/1")
        self.assertEqual(result["file"], "dask_unguarded.py")
        self.assertEqual(result["guard"], {"present": False, "line": None})
        first = result["findings"][0]
        self.assertEqual(set(first), {"line", "end_line", "col", "call", "kind", "message", "why", "fix"})
        self.assertEqual((first["line"], first["end_line"], first["col"]), (10, 11, 11))
        self.assertEqual(first["call"], "LocalCluster(n_workers=1, threads_per_worker=1, "
                                        "processes=True, dashboard_address=None)")
        self.assertEqual(first["fix"], "move it under `%s`, with the rest of lines 10-15" % GUARD)
        self.assertEqual(set(result["fix"]), {"lines", "text"})


class Parsl(unittest.TestCase):
    """The motivating case: Parsl's "Wrapping your workflows in __main__ protection" post."""

    def test_parsl_is_not_needed(self):
        self.assertIsNone(importlib.util.find_spec("parsl"))

    def test_with_parsl_load_at_top_level_is_caught(self):
        status, found, result = findings("check/parsl_unguarded.py")
        self.assertEqual(status, 1)
        self.assertEqual(found, [(12, "cluster")])
        self.assertEqual(result["findings"][0]["call"], "parsl.load()")
        self.assertIn("Parsl configuration", result["findings"][0]["message"])
        self.assertEqual(result["fix"], {"lines": [12, 13],
                                         "text": "move lines 12-13 under `%s`" % GUARD})

    def test_its_guarded_form_is_clean(self):
        status, found, result = findings("check/parsl_guarded.py")
        self.assertEqual((status, found), (0, []))
        self.assertEqual(result["guard"], {"present": True, "line": 12})
        self.assertIsNone(result["fix"])


class Resolution(unittest.TestCase):

    def test_aliases_contexts_and_attribute_chains(self):
        status, found, result = findings("check/aliases.py")
        self.assertEqual(status, 1)
        # Line 8 (set_start_method with force=True) and line 9 (get_context) are not findings;
        # line 13 only creates the Thread, line 14 starts it.
        self.assertEqual(found, [(10, "process"), (11, "process"), (12, "thread"), (14, "thread"),
                                 (15, "cluster"), (16, "shared")])
        self.assertEqual(result["fix"]["lines"], [10, 16])
        self.assertIn("pass the object to the children", result["findings"][-1]["fix"])

    def test_a_function_called_at_top_level_that_starts_a_pool(self):
        status, found, result = findings("check/chain.py")
        self.assertEqual((status, found), (1, [(19, "process")]))
        self.assertEqual(result["findings"][0]["message"],
                         "`main()` calls `run()`, which starts a process pool "
                         "(`multiprocessing.Pool(4)`, line 11) at import time")
        self.assertEqual(result["fix"]["text"], "move line 19 under `%s`" % GUARD)

    def test_guards_written_other_ways(self):
        status, found, result = findings("check/else_guard.py")
        self.assertEqual((status, found), (1, [(11, "file"), (18, "subprocess")]))
        self.assertEqual(result["guard"], {"present": True, "line": 10})
        self.assertIn("move line 11 from the unguarded branch of the `__name__` test at line 10 "
                      "into its guarded branch", result["fix"]["text"])

    def test_loops_try_blocks_classes_and_definitions_between_actions(self):
        status, found, result = findings("check/mixed.py")
        self.assertEqual(status, 1)
        self.assertEqual(found, [(9, "file-read"), (18, "file"), (19, "thread"), (28, "connection"),
                                 (30, "subprocess"), (32, "process")])
        # The config read is reported but not moved; square() stays where the children need it.
        self.assertEqual(result["fix"]["text"],
                         "move lines 18-19 and 26-33 under `%s`; keep lines 22-23 (definitions) "
                         "above it, where the children need them" % GUARD)

    def test_the_script_is_read_not_run(self):
        with tempfile.TemporaryDirectory() as work:
            script = os.path.join(work, "flow.py")
            marker = os.path.join(work, "ran")
            with open(script, "w") as f:
                f.write("import no_such_module_anywhere\n"
                        "open(%r, 'w').close()\n"
                        "raise SystemExit(3)\n" % marker)
            done = run_check("--json", script)
            self.assertEqual(done.returncode, 1, done.stderr)
            self.assertFalse(os.path.exists(marker))
            self.assertEqual([f["kind"] for f in json.loads(done.stdout)["findings"]], ["file"])


class BadInput(unittest.TestCase):

    def assertUsage(self, done, pattern):
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stdout, "")
        self.assertEqual(done.stderr.count("\n"), 1, done.stderr)
        self.assertRegex(done.stderr, pattern)

    def write(self, work, name, data):
        path = os.path.join(work, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_syntax_error(self):
        with tempfile.TemporaryDirectory() as work:
            path = self.write(work, "bad.py", b"import os\nprint('a'\n  , 1 +)\n")
            self.assertUsage(run_check(path), "^hangar_check: %s:3:8: syntax error: invalid syntax\n$"
                             % re.escape(path))
            path = self.write(work, "open.py", b"x = (1,\n")
            self.assertUsage(run_check("--json", path),
                             r"^hangar_check: .*open.py:1:5: syntax error: '\(' was never closed\n$")

    def test_directory(self):
        self.assertUsage(run_check(PROGRAMS), "^hangar_check: .*: is a directory, not a Python script\n$")

    def test_binary_file(self):
        with tempfile.TemporaryDirectory() as work:
            path = self.write(work, "flow.py", b"\x7fELF\x02\x01\x01\x00\x00\x00binary")
            self.assertUsage(run_check(path), "^hangar_check: .*flow.py: binary file, not a Python script\n$")

    def test_not_utf8(self):
        with tempfile.TemporaryDirectory() as work:
            path = self.write(work, "flow.py", b"name = 'caf\xe9'\n")
            self.assertUsage(run_check(path), r"^hangar_check: .*flow.py: not UTF-8 text \(byte 0xe9 at offset 11\)\n$")

    def test_not_python(self):
        with tempfile.TemporaryDirectory() as work:
            path = self.write(work, "flow.py", b"#!/bin/sh\necho hello\n")
            self.assertUsage(run_check(path), r"^hangar_check: .*flow.py: not a Python script \(#!/bin/sh\)\n$")

    def test_missing_file_and_usage(self):
        self.assertUsage(run_check("no_such_flow.py"), "^hangar_check: no_such_flow.py: no such file\n$")
        self.assertUsage(run_check(), r"^hangar_check: .*required.*\(see --help\)\n$")
        self.assertUsage(run_check("a.py", "b.py"), r"^hangar_check: unrecognized arguments: b.py \(see --help\)\n$")

    def test_help(self):
        done = run_check("--help")
        self.assertEqual(done.returncode, 0)
        self.assertIn("--json", done.stdout)
        self.assertIn("Exit status: 0 nothing found, 1 findings, 2 bad input", done.stdout)


if __name__ == "__main__":
    unittest.main()
