"""The generator's entry points: every feed from one command, byte-identical output for a seed, and a
product (pipeline/) that does not import the generator."""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
from pathlib import Path

from synthetic.manifest import MANIFEST_NAME, Manifest
from synthetic.sample import generate_all, generated_feeds

ROOT = Path(__file__).resolve().parents[2]
PROVINCES = ["15", "79"]


def _digests(landing: Path) -> dict[str, str]:
    """sha256 of every feed file (the manifest names its own directory, so it is compared apart)."""
    return {str(p.relative_to(landing)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(landing.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME}


def test_all_feeds_are_byte_identical_for_a_seed(tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for landing, seed in ((first, 7), (second, 7), (other, 8)):
        generate_all(landing, scale=0.002, seed=seed, invalid_rate=0.01, provinces=PROVINCES)
    digests = _digests(first)
    assert {path.split("/")[0] for path in digests} == generated_feeds()
    assert digests == _digests(second)
    assert Manifest.load(first).files == Manifest.load(second).files
    changed = {k for k, v in _digests(other).items() if digests.get(k) != v}
    assert len(changed) > len(digests) // 2  # another seed gives other files
    # the manifest's hashes are those of the files
    for entry in Manifest.load(first).files:
        assert entry.sha256 == digests[entry.path], entry.path


def test_the_all_command_writes_every_registered_feed(tmp_path):
    done = subprocess.run([sys.executable, "-m", "synthetic", "all", "--landing", str(tmp_path), "--scale", "0.001",
                           "--seed", "3", "--provinces", "15"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert set(Manifest.load(tmp_path).feeds()) == generated_feeds()
    for feed in generated_feeds():
        assert f"{feed}: " in done.stdout


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pipeline_does_not_import_the_generator():
    offenders = {str(path.relative_to(ROOT)): sorted(m for m in _imported_modules(path) if m.split(".")[0] == "synthetic")
                 for path in (ROOT / "pipeline").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_pipeline_imports_with_the_generator_hidden():
    # a meta-path finder that refuses `synthetic`: importing every pipeline module must not need it
    code = ("import sys, importlib, pkgutil\n"
            "class Refuse:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'synthetic' or name.startswith('synthetic.'):\n"
            "            raise ImportError('synthetic is hidden')\n"
            "sys.meta_path.insert(0, Refuse())\n"
            "import pipeline\n"
            "for m in pkgutil.iter_modules(pipeline.__path__):\n"
            "    importlib.import_module('pipeline.' + m.name)\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_synthetic_is_not_in_the_wheel():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert "synthetic" not in packages and "pipeline" in packages
