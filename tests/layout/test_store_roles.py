"""The state store is used by role: `Store` is only the union of its role protocols, the roles share
no method and cover exactly what the backends implement, and only the wiring takes all of the store."""

from __future__ import annotations

from itertools import combinations
from typing import Protocol

from chalicelib.store import Store
from chalicelib.store.dynamodb import DynamoDbStore
from chalicelib.store.sqlite import SqliteStore

from .test_import_rules import imports, inside, module_name, sources

# The wiring hands the store out whole (runtime.Services.store) to the scheduled jobs it runs; every
# other module names the role it uses, or an intersection of roles defined next to it.
WHOLE_STORE = {"chalicelib.runtime", "chalicelib.scheduled"}
ROLES = [base for base in Store.__bases__ if base is not Protocol]


def methods(cls: type) -> set[str]:
    return {name for name, value in vars(cls).items() if not name.startswith("_") and callable(value)}


def test_the_store_is_only_the_union_of_its_roles():
    assert methods(Store) == set(), "a new store method goes into a role protocol, not into Store itself"
    assert len(ROLES) >= 8 and all(getattr(role, "_is_protocol", False) for role in ROLES)


def test_no_two_roles_share_a_method():
    shared = {(a.__name__, b.__name__): methods(a) & methods(b) for a, b in combinations(ROLES, 2)}
    assert {pair: names for pair, names in shared.items() if names} == {}


def test_the_roles_are_exactly_what_each_backend_implements():
    union = set().union(*(methods(role) for role in ROLES))
    assert methods(SqliteStore) == union
    assert methods(DynamoDbStore) == union


def test_the_walker_sees_which_role_a_module_imports():
    # A walker blind to the store's names would let the rule below pass for every module.
    assert "chalicelib.store.RunLog" in imports(next(p for p in sources("pull") if p.name == "runner.py"))


def test_only_the_wiring_takes_the_whole_store():
    takers = {module_name(p) for p in sources() if "chalicelib.store.Store" in imports(p)}
    assert {m for m in takers if not inside(m, "chalicelib.store")} <= WHOLE_STORE
