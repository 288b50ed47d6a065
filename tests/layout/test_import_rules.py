"""The layout's import rules, read from the code itself (every import, lazy ones included), so
that the one-home-per-platform structure cannot silently erode."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from chalicelib.platforms import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"
VENDORS = sorted(PLATFORMS)
# Modules outside platforms/ that wire or process platforms generically: no vendor name at all
# (settings.py is the one table of settings, each platform's included, so it is not among them).
GENERIC = [
    "runtime.py",
    "dispatch.py",
    "scheduled.py",
    "processing.py",
    "deadletters.py",
    "health.py",
    "intake",
    "delivery",
    "awards/worker.py",
    "queue",
    "store",
    "xapi",
    "identity",
    "events.py",
    "pull",
    "report",
    "commands/report.py",
    "openapi.py",
]
IRI = re.compile(r"https?://\S+")  # the Open Badges xAPI recipe's IRIs are vocabulary, not a vendor
RUNTIME = PACKAGE / "runtime.py"
# What runtime.py may import at its top: the settings and the two stores every service shares.
WIRING_BASE = {"chalicelib.settings", "chalicelib.store", "chalicelib.queue"}
# Statements that decide or loop over messages: routing, retry and dead-letter policy, scheduling.
DECIDING = (ast.For, ast.While, ast.Try, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Raise)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports, at the top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from . import x` names a module
    return found


def sources(under: str = "") -> list[Path]:
    return sorted((PACKAGE / under).rglob("*.py")) if under else sorted(PACKAGE.rglob("*.py"))


def inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def offending(paths: list[Path], forbidden: list[str]) -> list[str]:
    return [
        f"{module_name(p)} imports {name}"
        for p in paths
        for name in sorted(imports(p))
        if any(inside(name, f) for f in forbidden)
    ]


def test_the_walker_sees_relative_and_lazy_imports():
    # A broken walker would make every rule below pass: check it finds what runtime.py does import.
    found = imports(PACKAGE / "runtime.py")
    assert {"chalicelib.intake.enqueue", "chalicelib.delivery.worker", "chalicelib.awards.worker"} <= found


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_platform_imports_another(vendor):
    others = [f"chalicelib.platforms.{o}" for o in VENDORS if o != vendor]
    assert offending(sources(f"platforms/{vendor}"), others) == []


def test_only_the_registry_reaches_into_a_platform_folder():
    outside = [p for p in sources() if not inside(module_name(p), "chalicelib.platforms")]
    assert offending(outside, [f"chalicelib.platforms.{v}" for v in VENDORS]) == []


def test_platforms_know_nothing_of_what_uses_them():
    users = [
        "chalicelib.intake",
        "chalicelib.delivery",
        "chalicelib.awards",
        "chalicelib.runtime",
        "chalicelib.processing",
        "chalicelib.deadletters",
        "chalicelib.queue",
        "chalicelib.store",
        "chalicelib.health",
        "chalicelib.cli",
        "chalicelib.pull",
        "chalicelib.openapi",
    ]
    assert offending(sources("platforms"), users) == []


def test_pulls_queue_and_never_reach_into_routes_or_awards():
    assert offending(sources("pull"), ["chalicelib.intake", "chalicelib.awards", "chalicelib.runtime"]) == []


def test_awards_never_import_the_delivery_worker():
    assert offending(sources("awards"), ["chalicelib.delivery"]) == []


def test_delivery_never_imports_intake_or_awards():
    assert offending(sources("delivery"), ["chalicelib.intake", "chalicelib.awards"]) == []


def test_intake_only_queues():
    # Routes -> intake -> queue: no worker, no rules engine (awards.inputs checks LAP input only).
    forbidden = [
        "chalicelib.delivery",
        "chalicelib.runtime",
        "chalicelib.processing",
        "chalicelib.awards.rules",
        "chalicelib.awards.evaluate",
        "chalicelib.awards.worker",
        "chalicelib.xapi",
    ]
    assert offending(sources("intake"), forbidden) == []


def test_the_report_only_reads_the_lrs():
    # No queue, store or platform: the report can run anywhere the LRS is reachable from.
    forbidden = [
        "chalicelib.intake",
        "chalicelib.delivery",
        "chalicelib.queue",
        "chalicelib.store",
        "chalicelib.runtime",
        "chalicelib.platforms",
        "chalicelib.processing",
    ]
    assert offending([*sources("report"), PACKAGE / "commands" / "report.py"], forbidden) == []


@pytest.mark.parametrize("package", ["xapi", "queue", "store"])
def test_lower_layers_import_no_upper_one(package):
    upper = [
        "chalicelib.platforms",
        "chalicelib.intake",
        "chalicelib.delivery",
        "chalicelib.awards",
        "chalicelib.runtime",
        "chalicelib.processing",
    ]
    assert offending(sources(package), upper) == []


@pytest.mark.parametrize("place", GENERIC)
def test_generic_modules_name_no_vendor(place):
    paths = sources(place) if (PACKAGE / place).is_dir() else [PACKAGE / place]
    named = [
        f"{module_name(p)}: {v}"
        for p in paths
        for v in VENDORS
        if v in IRI.sub("", p.read_text(encoding="utf-8")).lower()
    ]
    assert named == []


def top_level_imports(path: Path) -> set[str]:
    """The chalicelib modules `path` imports when it is imported (not inside functions or TYPE_CHECKING)."""
    package = module_name(path).split(".")[:-1]
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            found.add(".".join([*base, *(node.module.split(".") if node.module else [])]))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("chalicelib"))
    return found


def test_runtime_imports_no_domain_module_at_its_top():
    # A webhook's cold start imports runtime.py: each service's own modules come with its builder.
    assert top_level_imports(RUNTIME) <= WIRING_BASE


def test_runtime_only_builds():
    # Routing (which worker a message goes to), dead-letter policy and scheduled runs live in
    # dispatch.py and scheduled.py: runtime.py's functions neither loop, catch nor raise, nor read
    # a message's source.
    tree = ast.parse(RUNTIME.read_text(encoding="utf-8"))
    deciding = [f"line {n.lineno}: {type(n).__name__}" for n in ast.walk(tree) if isinstance(n, DECIDING)]
    reads_source = [f"line {n.lineno}" for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "source"]
    assert (deciding, reads_source) == ([], [])


def test_runtime_defines_the_services_and_their_accessor_only():
    tree = ast.parse(RUNTIME.read_text(encoding="utf-8"))
    defined = [n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
    constants = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    assert (defined, constants) == (["Services", "services"], [])


def test_the_dispatcher_and_the_scheduled_runs_take_no_request():
    # They run in the worker and scheduled functions: nothing of the routes' intake, nor runtime.
    assert offending([PACKAGE / "dispatch.py"], ["chalicelib.intake", "chalicelib.runtime"]) == []
    assert (
        offending(
            [PACKAGE / "scheduled.py"],
            ["chalicelib.intake", "chalicelib.runtime", "chalicelib.awards", "chalicelib.dispatch"],
        )
        == []
    )


def test_the_expiry_sweep_belongs_to_delivery_and_delivery_imports_no_pull():
    assert not (PACKAGE / "pull" / "expiry.py").exists()
    assert offending(sources(), ["chalicelib.pull.expiry"]) == []
    assert offending(sources("delivery"), ["chalicelib.pull"]) == []


def test_commands_import_nothing_from_the_cli_parser():
    # cli.py imports the commands; a command importing cli.py back would be a cycle.
    assert offending(sources("commands"), ["chalicelib.cli"]) == []
    assert "chalicelib.commands.local_delivery.LocalDelivery" in imports(PACKAGE / "commands" / "import_csv.py")
