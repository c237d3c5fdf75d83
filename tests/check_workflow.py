#!/usr/bin/python3
# A workflow of ci/github/ is valid YAML, and every step either uses a pinned action
# (checkout, artifacts, cache) or runs a script of this repository (ci/ or scripts/; in a
# job that checks hangar out into .hangar, .hangar/ci/...), so the job runs on any CI; its
# merge job needs the shard job. A reusable workflow (on: workflow_call) describes and types
# every input, uses each one it declares and declares each one it uses; and every CALLER
# (a workflow file, or the yaml blocks of a Markdown file, that calls it) passes only inputs
# it declares and every required one.
#   check_workflow.py WORKFLOW REPOSITORY-ROOT [CALLER...]
import json
import os
import re
import sys

import yaml

path, root, callers = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(path) as f:
    workflow = yaml.safe_load(f)
problems = []
jobs = workflow.get("jobs") or {}
if not jobs:
    problems.append("no jobs")
for name, job in jobs.items():
    steps = job.get("steps", [])
    # A job that checks hangar out into .hangar may run hangar's scripts from there.
    prefixes = [""]
    if any(s.get("uses", "").startswith("actions/checkout@") and (s.get("with") or {}).get("path") == ".hangar"
           for s in steps):
        prefixes.append(".hangar/")
    for step in steps:
        if "uses" in step:
            if not re.fullmatch(r"actions/(checkout|upload-artifact|download-artifact|cache/restore|cache/save)@v\d+",
                                step["uses"]):
                problems.append(f"{name}: unexpected action {step['uses']}")
            continue
        run = step.get("run", "")
        for command in re.split(r"\|\||&&|;|\n", run):
            words = [w for w in command.split() if not re.fullmatch(r"[A-Z_]+=\S*", w)]
            if not words:
                continue
            script = next((words[0][len(p):] for p in prefixes
                           if words[0].startswith(p) and re.fullmatch(r"(ci|scripts)/[\w.-]+\.(sh|py)",
                                                                       words[0][len(p):])), None)
            if script is None:
                problems.append(f"{name}: step runs {words[0]!r}, not a script of the repository")
            elif not os.access(os.path.join(root, script), os.X_OK):
                problems.append(f"{name}: {script} is not an executable script here")
merge_needs = (jobs.get("merge") or {}).get("needs") or []
if "shard" not in ([merge_needs] if isinstance(merge_needs, str) else merge_needs):
    problems.append("the merge job must need the shard job")

# PyYAML reads the key `on` as True.
triggers = workflow.get("on", workflow.get(True)) or {}
call = triggers.get("workflow_call") if isinstance(triggers, dict) else None
inputs = {}
if call is not None:
    inputs = (call or {}).get("inputs") or {}
    used = set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", json.dumps(jobs)))
    for name, spec in inputs.items():
        if not (spec or {}).get("description"):
            problems.append(f"input {name} has no description")
        if (spec or {}).get("type") not in ("string", "number", "boolean"):
            problems.append(f"input {name} has no type")
        if (spec or {}).get("required") and "default" in spec:
            problems.append(f"input {name} is required and has a default")
        if name not in used:
            problems.append(f"input {name} is declared but never used")
    for name in sorted(used - set(inputs)):
        problems.append(f"inputs.{name} is used but not declared")
elif callers:
    problems.append("callers given, but the workflow is not reusable (no on: workflow_call)")

workflow_file = os.path.basename(path)
checked_calls = 0
for caller in callers:
    with open(caller) as f:
        text = f.read()
    documents = re.findall(r"```ya?ml\n(.*?)```", text, re.S) if caller.endswith(".md") else [text]
    calls = 0
    for document in documents:
        try:
            parsed = yaml.safe_load(document) or {}
        except yaml.YAMLError as e:
            problems.append(f"{caller}: a yaml block does not parse: {e}")
            continue
        for job_name, job in (parsed.get("jobs") or {}).items() if isinstance(parsed, dict) else []:
            if not str(job.get("uses", "")).split("@")[0].endswith("/" + workflow_file):
                continue
            calls += 1
            given = job.get("with") or {}
            for key in given:
                if key not in inputs:
                    problems.append(f"{caller}: job {job_name} passes {key}, which {workflow_file} does not declare")
            for key, spec in inputs.items():
                if (spec or {}).get("required") and key not in given:
                    problems.append(f"{caller}: job {job_name} does not pass the required {key}")
    if not calls:
        problems.append(f"{caller}: no job calls {workflow_file}")
    checked_calls += calls

for p in problems:
    print("workflow:", p)
print(f"workflow: {len(jobs)} jobs, {len(inputs)} inputs, {checked_calls} calls checked, {len(problems)} problems")
sys.exit(1 if problems else 0)
