"""forkyard swarm analysis worker.

Runs inside a sandbox. `serve` imports bandit and radon, parses every Python file of the
target once and then answers requests on a unix socket; each request is analysed in a
forked child, so every request starts from the same warm state and a perspective that
crashes or exits takes only its own child down. `run` analyses one perspective in this
process and prints exactly one JSON line (used for tests and cold runs).

Protocol: the client sends one JSON line {"perspective": NAME} (or {"ping": true}); the
worker answers one JSON line {"exit": int, "stdout": str, "stderr": str}.
"""

import argparse
import ast
import importlib.util
import io
import json
import os
import signal
import socket
import sys
import tempfile
import traceback

import bandit  # noqa: F401  (imported here so forks start warm)
from bandit.core import config as bandit_config
from bandit.core import manager as bandit_manager
from radon.complexity import cc_rank, cc_visit_ast, sorted_results

BUILTIN = ("security", "complexity", "docstrings", "tests", "structure")
SKIPPED_DIRS = {"__pycache__", "node_modules", "venv", ".venv", "build", "dist"}
COMPLEXITY_THRESHOLD = 5
SEVERITY_RANK = {"HIGH": 3, "MEDIUM": 2, "LOW": 1, "UNDEFINED": 0}
MAX_LISTED = 25


class SourceFile:
    """One Python file of the target, read and parsed once."""

    def __init__(self, root, path):
        self.path = os.path.relpath(path, root)
        self.abspath = path
        with open(path, "rb") as f:
            raw = f.read()
        self.source = raw.decode("utf-8", errors="replace")
        self.lines = self.source.count("\n") + (0 if self.source.endswith("\n") else 1)
        try:
            self.tree = ast.parse(raw, filename=self.path)
            self.error = None
        except (SyntaxError, ValueError) as e:
            self.tree = None
            self.error = "%s: %s" % (type(e).__name__, e)

    @property
    def is_test(self):
        base = os.path.basename(self.path)
        parts = self.path.split(os.sep)[:-1]
        return (
            base.startswith("test_")
            or base.endswith("_test.py")
            or base == "conftest.py"
            or any(p in ("tests", "test") for p in parts)
        )


class Target:
    """The code base under analysis: what every perspective receives."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.files = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and d not in SKIPPED_DIRS
            )
            for name in sorted(filenames):
                if name.endswith(".py"):
                    self.files.append(SourceFile(self.root, os.path.join(dirpath, name)))
        self.files.sort(key=lambda f: f.path)

    def parsed(self):
        return [f for f in self.files if f.tree is not None]


def result(name, score, finding, details):
    return {
        "perspective": name,
        "score": int(max(0, min(100, round(score)))),
        "finding": finding,
        "details": details,
    }


# ---- security: bandit, configured exactly as `bandit -r` with no options


def security(target):
    conf = bandit_config.BanditConfig()
    profile = {
        "include": set(conf.get_option("tests") or []),
        "exclude": set(conf.get_option("skips") or []),
    }
    mgr = bandit_manager.BanditManager(conf, "file", quiet=True, profile=profile)
    mgr.discover_files([target.root], True, "")
    mgr.run_tests()
    findings = []
    for issue in mgr.get_issue_list("LOW", "LOW"):
        findings.append(
            {
                "test_id": issue.test_id,
                "test_name": issue.test,
                "severity": issue.severity,
                "confidence": issue.confidence,
                "file": os.path.relpath(issue.fname, target.root),
                "line": issue.lineno,
                "text": issue.text,
            }
        )
    findings.sort(key=lambda f: (f["file"], f["line"], f["test_id"]))
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in ("HIGH", "MEDIUM", "LOW")}
    by_test = {}
    for f in findings:
        by_test[f["test_id"]] = by_test.get(f["test_id"], 0) + 1
    score = 100 - 20 * counts["HIGH"] - 8 * counts["MEDIUM"] - 2 * counts["LOW"]
    if findings:
        worst = sorted(
            findings,
            key=lambda f: (
                -SEVERITY_RANK.get(f["severity"], 0),
                -SEVERITY_RANK.get(f["confidence"], 0),
                f["file"],
                f["line"],
            ),
        )[0]
        finding = "%d issues (%d high): worst %s %s at %s:%d" % (
            len(findings),
            counts["HIGH"],
            worst["test_id"],
            worst["test_name"],
            worst["file"],
            worst["line"],
        )
    else:
        worst = None
        finding = "no issues found by bandit in %d files" % len(mgr.files_list)
    details = {
        "issues": len(findings),
        "high": counts["HIGH"],
        "medium": counts["MEDIUM"],
        "low": counts["LOW"],
        "by_test_id": by_test,
        "files_scanned": len(mgr.files_list),
        "worst": worst,
        "findings": findings,
    }
    return result("security", score, finding, details)


# ---- complexity: radon cc, the blocks `radon cc -j` lists


def _block_type(block):
    if type(block).__name__ == "Class":
        return "class"
    return "method" if block.is_method else "function"


def complexity(target):
    blocks = []
    for f in target.parsed():
        for b in sorted_results(cc_visit_ast(f.tree)):
            entry = {
                "file": f.path,
                "type": _block_type(b),
                "name": b.name,
                "classname": getattr(b, "classname", None),
                "lineno": b.lineno,
                "endline": b.endline,
                "complexity": b.complexity,
                "rank": cc_rank(b.complexity),
            }
            blocks.append(entry)
    functions = [b for b in blocks if b["type"] != "class"]
    above = [b for b in functions if b["complexity"] > COMPLEXITY_THRESHOLD]
    average = sum(b["complexity"] for b in functions) / len(functions) if functions else 0.0
    worst = max(functions, key=lambda b: (b["complexity"], -b["lineno"]), default=None)
    if functions:
        share = len(above) / len(functions)
        score = 100 - 60 * share - 3 * max(0, worst["complexity"] - 10)
        finding = "%d of %d functions above complexity %d; worst %s (%d, rank %s) at %s:%d" % (
            len(above),
            len(functions),
            COMPLEXITY_THRESHOLD,
            worst["name"],
            worst["complexity"],
            worst["rank"],
            worst["file"],
            worst["lineno"],
        )
    else:
        score = 100
        finding = "no functions to measure"
    details = {
        "functions": len(functions),
        "classes": sum(1 for b in blocks if b["type"] == "class"),
        "above_threshold": len(above),
        "threshold": COMPLEXITY_THRESHOLD,
        "average": round(average, 2),
        "worst": worst,
        "above": sorted(above, key=lambda b: -b["complexity"])[:MAX_LISTED],
        "blocks": blocks,
        "unparsable_files": [f.path for f in target.files if f.tree is None],
    }
    return result("complexity", score, finding, details)


# ---- docstrings: ast, source files only (tests are named for what they check)


def docstrings(target):
    total = 0
    documented = 0
    missing = []
    for f in target.parsed():
        if f.is_test:
            continue
        nodes = [(f.tree, "module", f.path, 1)]
        for node in ast.walk(f.tree):
            if isinstance(node, ast.ClassDef):
                nodes.append((node, "class", node.name, node.lineno))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                nodes.append((node, "function", node.name, node.lineno))
        for node, kind, name, line in nodes:
            total += 1
            if ast.get_docstring(node):
                documented += 1
            else:
                missing.append({"file": f.path, "line": line, "kind": kind, "name": name})
    missing.sort(key=lambda m: (m["file"], m["line"]))
    coverage = 100.0 * documented / total if total else 100.0
    finding = "%d of %d modules, classes and functions documented (%.0f%%)" % (
        documented,
        total,
        coverage,
    )
    if missing:
        finding += "; first gap %s at %s:%d" % (missing[0]["name"], missing[0]["file"], missing[0]["line"])
    details = {
        "documented": documented,
        "total": total,
        "coverage_pct": round(coverage, 1),
        "missing": missing[:MAX_LISTED],
        "missing_count": len(missing),
    }
    return result("docstrings", coverage, finding, details)


# ---- tests: test files vs source modules


def _is_trivial(f):
    """An empty module or one holding only its docstring."""
    if f.tree is None:
        return False
    body = f.tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    return not body


def tests(target):
    test_files = [f for f in target.files if f.is_test]
    sources = [
        f
        for f in target.files
        if not f.is_test and not (os.path.basename(f.path) == "__init__.py" and _is_trivial(f))
    ]
    imported = set()
    test_functions = 0
    for f in test_files:
        if f.tree is None:
            continue
        for node in ast.walk(f.tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.update(node.module.split("."))
                imported.update(a.name for a in node.names)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    imported.update(a.name.split("."))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                test_functions += 1
    test_names = {os.path.basename(f.path)[5:-3] for f in test_files if os.path.basename(f.path).startswith("test_")}
    tested, untested = [], []
    for f in sources:
        module = os.path.basename(f.path)[:-3]
        if module == "__init__":
            module = os.path.basename(os.path.dirname(f.path)) or module
        (tested if module in imported or module in test_names else untested).append(f.path)
    share = 100.0 * len(tested) / len(sources) if sources else 100.0
    finding = "%d test files (%d test functions) for %d source modules; %d modules tested (%.0f%%)" % (
        len(test_files),
        test_functions,
        len(sources),
        len(tested),
        share,
    )
    details = {
        "test_files": len(test_files),
        "source_files": len(sources),
        "test_functions": test_functions,
        "tested_modules": tested,
        "untested_modules": untested,
        "ratio": round(len(test_files) / len(sources), 3) if sources else None,
    }
    return result("tests", share, finding, details)


# ---- structure: functions, classes, imports, per file


def structure(target):
    per_file = {}
    long_functions = []
    for f in target.files:
        entry = {"lines": f.lines, "functions": 0, "classes": 0, "imports": 0}
        if f.tree is not None:
            for node in ast.walk(f.tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    entry["functions"] += 1
                    length = (getattr(node, "end_lineno", node.lineno) or node.lineno) - node.lineno + 1
                    if length > 60:
                        long_functions.append({"file": f.path, "line": node.lineno, "name": node.name, "lines": length})
                elif isinstance(node, ast.ClassDef):
                    entry["classes"] += 1
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    entry["imports"] += 1
        else:
            entry["error"] = f.error
        per_file[f.path] = entry
    totals = {k: sum(e[k] for e in per_file.values()) for k in ("lines", "functions", "classes", "imports")}
    big_files = [p for p, e in per_file.items() if e["lines"] > 400]
    crowded = [p for p, e in per_file.items() if e["functions"] > 20]
    unparsable = [f.path for f in target.files if f.tree is None]
    score = 100 - 10 * len(big_files) - 5 * len(long_functions) - 5 * len(crowded) - 10 * len(unparsable)
    largest = max(per_file.items(), key=lambda kv: (kv[1]["lines"], kv[0]), default=None)
    finding = "%d files, %d functions, %d classes, %d imports" % (
        len(per_file),
        totals["functions"],
        totals["classes"],
        totals["imports"],
    )
    if largest:
        finding += "; largest %s (%d lines)" % (largest[0], largest[1]["lines"])
    details = dict(totals)
    details.update(
        {
            "files": len(per_file),
            "per_file": per_file,
            "large_files": big_files,
            "long_functions": long_functions,
            "crowded_files": crowded,
            "unparsable_files": unparsable,
        }
    )
    return result("structure", score, finding, details)


def load_perspectives(extra_dir):
    table = {name: globals()[name] for name in BUILTIN}
    if extra_dir and os.path.isdir(extra_dir):
        for name in sorted(os.listdir(extra_dir)):
            if not name.endswith(".py"):
                continue
            key = name[:-3].lower()
            spec = importlib.util.spec_from_file_location("perspective_" + key, os.path.join(extra_dir, name))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if not callable(getattr(module, "analyze", None)):
                raise SystemExit("perspective script %s has no analyze(target) function" % name)
            table[key] = _user_perspective(key, module.analyze)
    return table


def _user_perspective(key, analyze):
    def run(target):
        out = analyze(target)
        if not isinstance(out, dict):
            raise TypeError("analyze() must return a dict, got %s" % type(out).__name__)
        return result(key, out.get("score", 0), str(out.get("finding", "")), out.get("details", {}))

    return run


def analyse(table, target, name):
    """Runs one perspective and prints its one JSON line; returns the exit code."""
    fn = table.get(name.lower())
    if fn is None:
        sys.stderr.write("unknown perspective '%s'; known: %s\n" % (name, ", ".join(sorted(table))))
        return 2
    out = fn(target)
    sys.stdout.write(json.dumps(out, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


# ---- server


def _run_child(table, target, name, out_file, err_file):
    os.dup2(out_file.fileno(), 1)
    os.dup2(err_file.fileno(), 2)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), encoding="utf-8")
    code = 1
    try:
        code = analyse(table, target, name)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _handle(conn, table, target):
    conn.settimeout(30)
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    request = json.loads(data.decode("utf-8") or "{}")
    if request.get("ping"):
        reply = {"exit": 0, "stdout": "", "stderr": "", "perspectives": sorted(table)}
    else:
        with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
            pid = os.fork()
            if pid == 0:
                _run_child(table, target, str(request.get("perspective", "")), out_file, err_file)
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status):
                code = -os.WTERMSIG(status)
            else:
                code = os.WEXITSTATUS(status)
            out_file.seek(0)
            err_file.seek(0)
            reply = {
                "exit": code,
                "stdout": out_file.read().decode("utf-8", errors="replace"),
                "stderr": err_file.read().decode("utf-8", errors="replace"),
            }
    conn.sendall((json.dumps(reply) + "\n").encode("utf-8"))


def serve(args):
    target = Target(args.target)
    table = load_perspectives(args.perspectives)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.socket)
    server.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    sys.stderr.write(
        "worker ready: %d files, %d parsed, perspectives %s\n"
        % (len(target.files), len(target.parsed()), ",".join(sorted(table)))
    )
    sys.stderr.flush()
    while True:
        conn, _ = server.accept()
        pid = os.fork()
        if pid == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = 0
            try:
                _handle(conn, table, target)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p_serve = sub.add_parser("serve")
    p_serve.add_argument("--socket", required=True)
    p_serve.add_argument("--target", required=True)
    p_serve.add_argument("--perspectives")
    p_run = sub.add_parser("run")
    p_run.add_argument("perspective")
    p_run.add_argument("--target", required=True)
    p_run.add_argument("--perspectives")
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args)
    else:
        table = load_perspectives(args.perspectives)
        sys.exit(analyse(table, Target(args.target), args.perspective))


if __name__ == "__main__":
    main()
