"""The start-up hook (python/startup/sitecustomize.py) on real programs, read through the
events file it writes (the records of EVENTS.md)."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from support import HOOK, PROGRAMS, PYTHON, clean_env, run_program

METHODS = ("fork", "spawn", "forkserver")


def re_runs(at_least):
    """An `until` for run_program: at least this many children re-ran the main script."""
    return lambda events: sum(1 for r in events
                              if r["event"] == "main_run" and r["as"] == "__mp_main__") >= at_least


def re_ran_line(line, at_least):
    """An `until` for run_program: at least this many children reached this line of it."""
    return lambda events: sum(1 for r in events
                              if r["event"] == "reimport_line" and r["line"] == line) >= at_least


class StartUp(unittest.TestCase):

    def test_without_hangar_variables_only_the_shadowed_sitecustomize_runs(self):
        probe = ("import sys; print(sys.modules['sitecustomize'].__file__); "
                 "print(sorted(sys.modules)); print([type(f).__name__ for f in sys.meta_path])")
        plain = subprocess.run([PYTHON, "-c", probe], env=clean_env(), capture_output=True,
                               text=True, timeout=30)
        hooked = subprocess.run([PYTHON, "-c", probe], env=clean_env(PYTHONPATH=HOOK),
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        # Debian's own sitecustomize still runs and is what `import sitecustomize` gives;
        # no module and no import hook is added.
        self.assertEqual(hooked.stdout, plain.stdout)
        self.assertEqual(hooked.stderr, "")

    def test_multiprocessing_is_not_imported_until_the_program_imports_it(self):
        program = ("import sys\n"
                   "before = sorted(m for m in ('multiprocessing', 'runpy', 'threading', 'json') if m in sys.modules)\n"
                   "import multiprocessing\n"
                   "print(before, multiprocessing.get_start_method())\n")
        run = run_program(["-c", program], method="forkserver")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.strip(), "[] forkserver")
        self.assertEqual(run.stderr, "")

    def test_records_of_a_plain_script(self):
        run = run_program(["guarded_pool.py"], method="fork")
        self.assertEqual(run.returncode, 0, run.stderr)
        loaded = run.records("hook_loaded")
        self.assertEqual(len(loaded), 1)
        self.assertEqual(loaded[0]["argv"], ["guarded_pool.py"])
        self.assertEqual(loaded[0]["method_requested"], "fork")
        self.assertEqual(loaded[0]["python"], "3.11.2")
        self.assertEqual(run.records("main_run"), [{
            "event": "main_run", "pid": loaded[0]["pid"], "as": "__main__",
            "file": os.path.join(PROGRAMS, "guarded_pool.py"), "method": None}])
        self.assertEqual(run.records("hook_error"), [])

    def test_an_unknown_start_method_is_a_hook_error_and_changes_nothing(self):
        run = run_program(["guarded_pool.py"], method="threads")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.split()[0], "fork")
        self.assertEqual(len(run.records("hook_error")), 1)
        self.assertIn("threads", run.records("hook_error")[0]["error"])

    def test_an_events_file_that_cannot_be_opened_is_silent(self):
        run = run_program(["guarded_pool.py"], method="spawn",
                          env={"HANGAR_EVENTS_FILE": "/nonexistent/dir/events.jsonl"})
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.split(), ["spawn", "285"])
        self.assertEqual(run.stderr, "")


class StartMethods(unittest.TestCase):

    def test_guarded_pool_runs_once_and_every_worker_start_is_recorded(self):
        for method in METHODS:
            with self.subTest(method=method):
                run = run_program(["guarded_pool.py"], method=method)
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertEqual(run.stdout.split(), [method, "285"])
                starts = run.records("child_start")
                self.assertEqual(len(starts), 3)
                self.assertEqual({(s["method"], s["requested"]) for s in starts}, {(method, method)})
                re_run = run.records("main_run", **{"as": "__mp_main__"})
                # CPython 3.11's forkserver does not preload __main__: each child re-imports it.
                self.assertEqual(len(re_run), 0 if method == "fork" else 3)
                self.assertEqual({r["pid"] for r in re_run},
                                 set() if method == "fork" else {s["child"] for s in starts})
                self.assertEqual({r["method"] for r in re_run}, set() if method == "fork" else {method})
                # The children run the definitions and the guard's test, never its body.
                lines = {r["line"] for r in run.records("reimport_line")}
                self.assertEqual(lines, set() if method == "fork" else {4, 7, 11})

    def test_unguarded_pool_re_runs_in_every_spawn_and_forkserver_worker_forever(self):
        for method in ("spawn", "forkserver"):
            with self.subTest(method=method):
                run = run_program(["unguarded_pool.py"], method=method, timeout=20,
                                  until=re_ran_line(11, 4))
                self.assertTrue(run.stopped, "the run ended by itself: %s" % run.stderr[-500:])
                re_run = run.records("main_run", **{"as": "__mp_main__"})
                self.assertGreaterEqual(len(re_run), 4)
                pool_line = [r for r in run.records("reimport_line", line=11)]
                self.assertGreaterEqual(len(pool_line), 4)
                self.assertEqual(pool_line[0]["source"], "pool = multiprocessing.Pool(2)")
                self.assertEqual(pool_line[0]["file"], os.path.join(PROGRAMS, "unguarded_pool.py"))
                self.assertTrue(all(r["action"] for r in pool_line), pool_line[0])  # what check reports
                self.assertIn("bootstrapping phase", run.stderr)
                # Lines after the pool never run in a child: the Pool line raised.
                self.assertEqual(run.records("reimport_line", line=12), [])

    def test_unguarded_pool_under_fork_runs_once(self):
        run = run_program(["unguarded_pool.py"], method="fork")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.records("main_run", **{"as": "__mp_main__"}), [])
        self.assertEqual(len(run.records("child_start", method="fork")), 2)

    def test_unguarded_executor_breaks_under_spawn(self):
        run = run_program(["unguarded_executor.py"], method="spawn")
        self.assertEqual(run.returncode, 1)
        self.assertIn("BrokenProcessPool", run.stderr)
        self.assertGreaterEqual(len(run.records("main_run", **{"as": "__mp_main__"})), 1)
        executor_line = run.records("reimport_line", line=11)
        self.assertGreaterEqual(len(executor_line), 1)
        self.assertEqual(executor_line[0]["source"],
                         "with concurrent.futures.ProcessPoolExecutor(2) as executor:")
        self.assertTrue(all(s["method"] == "spawn" for s in run.records("child_start")))

    def test_a_context_chosen_by_the_program_keeps_its_method(self):
        run = run_program(["explicit_fork.py"], method="spawn")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.split(), ["spawn", "0"])     # default spawn, child forked
        starts = run.records("child_start")
        self.assertEqual([(s["method"], s["requested"]) for s in starts], [("fork", "spawn")])

    def test_set_start_method_in_the_program_wins(self):
        # The script sets spawn at top level, unguarded: the spawn child re-runs that line and
        # dies with "context has already been set" (what hangar_check reports for it).
        run = run_program(["set_start_method.py"], method="forkserver")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.strip(), "child exit code 1")
        self.assertIn("RuntimeError: context has already been set", run.stderr)
        starts = run.records("child_start")
        self.assertEqual([(s["method"], s["requested"]) for s in starts], [("spawn", "forkserver")])


class Programs(unittest.TestCase):

    def test_a_users_sitecustomize_runs_once_per_process(self):
        with tempfile.TemporaryDirectory() as work:
            log = os.path.join(work, "own_site.log")
            own_site = os.path.join(PROGRAMS, "own_site")
            program = ("import multiprocessing, sitecustomize\n"
                       "def f(): pass\n"
                       "if __name__ == '__main__':\n"
                       "    p = multiprocessing.Process(target=f); p.start(); p.join()\n"
                       "    print(sitecustomize.MARK, sitecustomize.__file__)\n")
            script = os.path.join(work, "flow.py")
            with open(script, "w") as f:
                f.write(program)
            run = run_program([script], method="spawn", pythonpath=HOOK + os.pathsep + own_site,
                              env={"OWN_SITE_LOG": log})
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual(run.stdout.split(), ["own_site", os.path.join(own_site, "sitecustomize.py")])
            with open(log) as f:
                pids = [int(line) for line in f]
            loaded = sorted(r["pid"] for r in run.records("hook_loaded"))
            self.assertEqual(sorted(pids), loaded)       # once in every Python process
            self.assertGreaterEqual(len(loaded), 2)

    def test_a_failing_sitecustomize_is_reported_as_site_reports_it(self):
        own_site = os.path.join(PROGRAMS, "own_site")
        command = [PYTHON, "-c", "print('ran')"]
        env = {"OWN_SITE_FAIL": "1"}
        plain = subprocess.run(command, env=clean_env(PYTHONPATH=own_site, **env),
                               capture_output=True, text=True, timeout=30)
        hooked = run_program(command[1:], method="spawn", pythonpath=HOOK + os.pathsep + own_site,
                             env=env)
        self.assertEqual(plain.stderr, "Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
                                       "ZeroDivisionError: own_site fails on purpose\n")
        self.assertEqual((hooked.stdout, hooked.stderr), (plain.stdout, plain.stderr))
        self.assertEqual(len(hooked.records("hook_loaded")), 1)

    def test_sys_argv_reaches_the_script_and_its_children(self):
        args = ["plain", "with space", "ünïcödé", "--flag=1", ""]
        run = run_program(["print_argv.py", *args], method="spawn")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(json.loads(run.stdout), {"parent": args, "child": args})
        self.assertEqual(run.records("hook_loaded")[0]["argv"], ["print_argv.py", *args])

    def test_an_argument_that_is_not_utf8_still_makes_valid_json(self):
        run = run_program(["print_argv.py", os.fsdecode(b"caf\xe9")], method="fork")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.records("hook_loaded")[0]["argv"], ["print_argv.py", "caf\ufffd"])

    def test_a_script_and_the_hook_in_folders_with_spaces(self):
        with tempfile.TemporaryDirectory(prefix="hangar with spaces ") as work:
            hook = os.path.join(work, "hook dir")
            shutil.copytree(HOOK, hook, ignore=shutil.ignore_patterns("__pycache__"))
            folder = os.path.join(work, "my flows")
            os.mkdir(folder)
            script = os.path.join(folder, "guarded pool.py")
            shutil.copy(os.path.join(PROGRAMS, "guarded_pool.py"), script)
            run = run_program([script], method="spawn", pythonpath=hook, cwd=folder)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual(run.stdout.split(), ["spawn", "285"])
            self.assertEqual({r["file"] for r in run.records("main_run")}, {script})
            self.assertEqual(len(run.records("main_run", **{"as": "__mp_main__"})), 3)

    def test_a_runner_that_uses_runpy(self):
        run = run_program(["run_as_main.py", "guarded_pool.py"], method="spawn")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.split(), ["spawn", "285"])
        flow = os.path.join(PROGRAMS, "guarded_pool.py")
        self.assertEqual([r["file"] for r in run.records("main_run", **{"as": "__main__"})],
                         [os.path.join(PROGRAMS, "run_as_main.py"), flow])
        self.assertEqual({r["file"] for r in run.records("main_run", **{"as": "__mp_main__"})}, {flow})

    def test_a_folder_or_zip_with_a___main__(self):
        with tempfile.TemporaryDirectory() as work:
            folder = os.path.join(work, "app")
            os.mkdir(folder)
            with open(os.path.join(folder, "__main__.py"), "w") as f:
                f.write("print(__name__)\n")
            subprocess.run([PYTHON, "-m", "zipapp", folder, "-o", folder + ".pyz"], check=True,
                           env=clean_env(), timeout=30)
            for target in (folder, folder + ".pyz"):
                run = run_program([target])
                self.assertEqual((run.returncode, run.stdout), (0, "__main__\n"), run.stderr)
                self.assertEqual([(r["as"], r["file"]) for r in run.records("main_run")],
                                 [("__main__", os.path.join(target, "__main__.py"))])
            run = run_program([os.path.join(work, "missing.py")])
            self.assertEqual((run.returncode, run.records("main_run")), (2, []))

    def test_a_module_run_with_dash_m(self):
        run = run_program(["-m", "flowpkg.flow"], method="forkserver")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.split(), ["forkserver", "285"])
        flow = os.path.join(PROGRAMS, "flowpkg", "flow.py")
        self.assertEqual([(r["as"], r["file"]) for r in run.records("main_run", method=None)],
                         [("__main__", flow)])
        re_run = run.records("main_run", **{"as": "__mp_main__"})
        self.assertEqual([(r["file"], r["method"]) for r in re_run], [(flow, "forkserver")] * 2)


class Libraries(unittest.TestCase):
    """What dask and joblib really do under each requested method."""

    def test_dask_starts_its_workers_with_spawn_whatever_is_requested(self):
        run = run_program(["dask_guarded.py"], method="fork", timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.strip(), "sum of squares: 285")
        starts = run.records("child_start")
        self.assertEqual([(s["method"], s["requested"]) for s in starts], [("spawn", "fork")])
        re_run = run.records("main_run", **{"as": "__mp_main__"})
        self.assertEqual([r["method"] for r in re_run], ["spawn"])
        self.assertEqual({r["line"] for r in run.records("reimport_line")}, {2, 5, 9})

    def test_unguarded_dask_restarts_its_worker_forever_even_when_fork_is_requested(self):
        run = run_program(["dask_unguarded.py"], method="fork", timeout=60,
                          until=re_runs(2))
        self.assertTrue(run.stopped)
        self.assertIsNone(run.returncode)
        re_run = run.records("main_run", **{"as": "__mp_main__"})
        self.assertGreaterEqual(len(re_run), 2)
        self.assertTrue(all(s["method"] == "spawn" for s in run.records("child_start")))
        cluster_line = run.records("reimport_line", line=10)
        self.assertGreaterEqual(len(cluster_line), 1)
        self.assertTrue(cluster_line[0]["source"].startswith("cluster = LocalCluster("))

    def test_joblib_loky_ignores_the_default_method_and_does_not_re_run_main(self):
        for method in ("fork", "spawn"):
            with self.subTest(method=method):
                run = run_program(["joblib_unguarded.py", "loky"], method=method, timeout=60)
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertEqual(run.stdout.split(), ["loky", "285"])
                starts = run.records("child_start")
                self.assertEqual({(s["method"], s["requested"]) for s in starts}, {("loky", method)})
                self.assertEqual(run.records("main_run", **{"as": "__mp_main__"}), [])

    def test_joblib_multiprocessing_backend_follows_the_default_and_loops_unguarded(self):
        run = run_program(["joblib_unguarded.py", "multiprocessing"], method="spawn", timeout=30,
                          until=re_runs(3))
        self.assertTrue(run.stopped)
        self.assertTrue(all(s["method"] == "spawn" for s in run.records("child_start")))
        self.assertGreaterEqual(len(run.records("reimport_line", line=15)), 1)


class ForkStacks(unittest.TestCase):

    def test_py_stacks_names_the_thread_that_holds_a_lock_at_fork(self):
        run = run_program(["fork_while_locked.py"])
        self.assertEqual(run.returncode, 0, run.stderr)
        holder_tid, inherited_locked = run.stdout.split()
        self.assertEqual(inherited_locked, "True")        # the child got the lock held
        stacks = run.records("py_stacks")
        self.assertEqual(len(stacks), 1)
        record = stacks[0]
        self.assertEqual(record["tid"], record["pid"])     # forked by the main thread
        self.assertEqual([(t["tid"], t["name"]) for t in record["threads"]],
                         [(int(holder_tid), "lock-holder")])
        frames = record["threads"][0]["frames"]
        functions = [f["function"] for f in frames]
        self.assertEqual(functions[-1], "_bootstrap")      # innermost first
        mine = frames[functions.index("hold_lock")]
        self.assertEqual((mine["line"], mine["source"]), (15, "release.wait(30)"))
        self.assertEqual(mine["file"], os.path.join(PROGRAMS, "fork_while_locked.py"))
        # Written just before the fork: before the parent records the child's start.
        kinds = [r["event"] for r in run.events]
        self.assertLess(kinds.index("py_stacks"), kinds.index("child_start"))

    def test_no_py_stacks_for_a_fork_with_one_thread(self):
        run = run_program(["guarded_pool.py"], method="fork")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.records("py_stacks"), [])


if __name__ == "__main__":
    unittest.main()
