"""The unit registry: who the responsible units are, what they are called, what groups stand for.

The default for Lianyungang ships as JSON data (``data/units_lianyungang.json``) so an office can
see and diff it; once imported, the 单位 sheet of the master is the registry the office edits.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List, Optional

from minshi_xls import MinshiError, data_path
from minshi_xls.model import UNIT_KINDS, Registry, Unit

DEFAULT_REGISTRY = "units_lianyungang.json"


def registry_from_dict(data: dict) -> Registry:
    units = []
    for u in data.get("units", []):
        kind = u.get("kind") or "市直部门"
        if kind not in UNIT_KINDS:
            raise MinshiError(f"单位名册中“{u.get('short')}”的类别“{kind}”无效，应为：{'、'.join(UNIT_KINDS)}。")
        units.append(Unit(short=u["short"], name=u.get("name", ""), kind=kind,
                          aliases=list(u.get("aliases", [])), email=u.get("email", ""),
                          contact=u.get("contact", "")))
    return Registry(units=units, groups={k: list(v) for k, v in data.get("groups", {}).items()})


def registry_to_dict(registry: Registry) -> dict:
    return {"units": [{"short": u.short, "name": u.name, "kind": u.kind, "aliases": list(u.aliases),
                       "email": u.email, "contact": u.contact} for u in registry.units],
            "groups": {k: list(v) for k, v in registry.groups.items()}}


def load_registry_json(path) -> Registry:
    p = Path(path)
    try:
        return registry_from_dict(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as e:
        raise MinshiError(f"无法读取单位名册 {p.name}：{e}") from e


def default_registry() -> Registry:
    """The bundled Lianyungang registry (a fresh copy: callers may edit it)."""
    return load_registry_json(data_path(DEFAULT_REGISTRY))


def group_of(registry: Registry, short: str) -> List[str]:
    """The groups a unit belongs to (the 所属分组 cell of the 单位 sheet)."""
    return [g for g, members in registry.groups.items() if short in members]


def known_names(registry: Registry) -> List[str]:
    """Every name the registry resolves: short names, full names, aliases and group tokens."""
    names: List[str] = list(registry.groups)
    for u in registry.units:
        names.extend(n for n in (u.short, u.name, *u.aliases) if n)
    return names


_AFFIXES = re.compile(r"^(?:市委|市|县委|县|区委|区)|(?:局|委|办|中心|集团|公司)$")


def closest_name(registry: Registry, name: str) -> Optional[str]:
    """The known name a mistyped one most likely meant ("市卫建委" -> "市卫健委"), or None.

    Close means one slip, not a shared 市…局 frame: the names must be alike as a whole and in
    their core (市统计局 is not 市自然资源局)."""
    import difflib
    best, score = None, 0.0
    core = _AFFIXES.sub("", name)
    for known in known_names(registry):
        if name.startswith("各") != known.startswith("各"):
            continue  # a group token is never a slip for one unit
        whole = difflib.SequenceMatcher(None, name, known).ratio()
        if whole < 0.6 or whole <= score:
            continue
        if difflib.SequenceMatcher(None, core, _AFFIXES.sub("", known)).ratio() < 0.5:
            continue
        best, score = known, whole
    if best is None:
        return None
    unit = registry.get(best)
    return unit.short if unit else best


def guess_kind(name: str) -> str:
    """The 类别 of a unit a notice names, by how such names end (the office corrects it)."""
    if re.search(r"(?:开发区|新区|高新区|园区|管委会|管理区|景区|示范区)$", name):
        return "功能板块"
    if re.search(r"(?:公司|集团|银行|分行)$", name) or name.startswith(("国网", "中国")):
        return "企业/其他"
    if re.fullmatch(r"[^局委办]{1,6}(?:县|区|市|镇|乡|街道|人民政府)", name) and not name.startswith(
            ("市", "县", "区")):
        return "县区"
    return "市直部门"


def registry_from_names(names: List[str]) -> Registry:
    """A new registry for a notice from another city: one unit per name it uses (group tokens
    such as 各县（市、区） stay names until the office gives them members in the 单位 sheet)."""
    units: List[Unit] = []
    seen = set()
    for n in names:
        if n and n not in seen and not n.startswith("各"):
            seen.add(n)
            units.append(Unit(short=n, name=n, kind=guess_kind(n)))
    return Registry(units=units, groups={})
