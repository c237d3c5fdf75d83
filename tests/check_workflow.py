#!/usr/bin/python3
# The nightly workflow is valid YAML, and every step either uses a pinned action (checkout,
# artifacts, cache) or runs a script of this repository, so the job runs on any CI.
import os
import re
import sys

import yaml

path, root = sys.argv[1], sys.argv[2]
with open(path) as f:
    workflow = yaml.safe_load(f)
problems = []
jobs = workflow.get("jobs") or {}
if not jobs:
    problems.append("no jobs")
for name, job in jobs.items():
    for step in job.get("steps", []):
        if "uses" in step:
            if not re.fullmatch(r"actions/(checkout|upload-artifact|download-artifact|cache/restore|cache/save)@v\d+",
                                step["uses"]):
                problems.append(f"{name}: unexpected action {step['uses']}")
            continue
        run = step.get("run", "")
        for command in re.split(r"\|\||&&|;|\n", run):
            words = [w for w in command.split() if not re.fullmatch(r"[A-Z_]+=\S*", w)]
            if words and not re.fullmatch(r"(ci|scripts)/[\w.-]+\.(sh|py)", words[0]):
                problems.append(f"{name}: step runs {words[0]!r}, not a script of the repository")
            elif words:
                if not os.access(os.path.join(root, words[0]), os.X_OK):
                    problems.append(f"{name}: {words[0]} is not an executable script here")
if "merge" not in jobs or "needs" not in jobs["merge"]:
    problems.append("the merge job must need the shard job")
for p in problems:
    print("workflow:", p)
print(f"workflow: {len(jobs)} jobs checked, {len(problems)} problems")
sys.exit(1 if problems else 0)
