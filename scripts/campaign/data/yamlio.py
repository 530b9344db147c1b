"""Strict YAML reading and quoted YAML writing.

Reading (ARCHITECTURE.md, "Data rules"): UTF-8 only, a size cap, the safe loader (the C one when
available), no aliases, no duplicate keys. Every value's line is recorded so errors can name it.
Writing quotes every string scalar, so `NO` stays Norway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from campaign.core.errors import DataError

try:  # the C parser is ~10x faster; fall back to pure Python where libyaml is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_BYTES = 64 * 1024
"""Default size cap for one data file; the mission directory passes a larger one."""

Path_ = tuple[str | int, ...]

_constructor = yaml.SafeLoader("")
_SCALARS = yaml.SafeLoader.yaml_constructors
_SEQ, _MAP = "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


@dataclass
class Document:
    """A parsed YAML document: plain Python data and the 1-based line of every value."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, loc: Path_) -> int:
        """The line of the value at `loc`, or of its closest existing parent."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def top_lines(self) -> dict[str, int]:
        """The line of each top-level key's value."""
        return {str(loc[0]): line for loc, line in self.lines.items() if len(loc) == 1}


def decode(raw: bytes, max_bytes: int = MAX_BYTES) -> str:
    """Check the size cap and decode strict UTF-8, raising DataError with a line number."""
    if len(raw) > max_bytes:
        raise DataError(
            1,
            f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte limit; "
            "a data file this big is a mistake or an attack: keep it small",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(line, "file is not valid UTF-8; save it as UTF-8") from None
    return text.removeprefix("\ufeff")


def loads(raw: bytes, max_bytes: int = MAX_BYTES) -> Document:
    """Parse one YAML document strictly; raise DataError on any violation."""
    text = decode(raw, max_bytes)
    try:
        if "&" in text or "*" in text:
            _refuse_anchors(text)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "malformed YAML"
        raise DataError(line, f"malformed YAML: {what}; check indentation and quoting") from None
    except yaml.YAMLError as exc:
        raise DataError(1, f"malformed YAML: {exc}") from None
    doc = Document(data=None)
    if node is None:
        raise DataError(1, "file is empty; it must hold a YAML mapping")
    doc.data = _build(node, (), doc.lines)
    return doc


def _refuse_anchors(text: str) -> None:
    """Raise DataError at the first anchor (&name) or alias (*name): they allow bombs."""
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise DataError(
                event.start_mark.line + 1,
                "YAML anchors (&name) and aliases (*name) are not allowed; write the value out in full",
            )


def _build(node: Node, loc: Path_, lines: dict[Path_, int]) -> Any:
    """Turn a composed node tree into Python data, recording the line of every value."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, ScalarNode):
        construct = _SCALARS.get(node.tag)
        if construct is None:
            raise DataError(
                node.start_mark.line + 1,
                f"YAML tag {node.tag!r} is not allowed; remove the tag and quote the value",
            )
        try:
            return construct(_constructor, node)
        except (yaml.YAMLError, ValueError) as exc:
            raise DataError(node.start_mark.line + 1, f"bad value: {exc}; quote it") from None
    if node.tag not in (_SEQ, _MAP):
        raise DataError(node.start_mark.line + 1, f"YAML tag {node.tag!r} is not allowed")
    if isinstance(node, SequenceNode):
        return [_build(item, (*loc, i), lines) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise DataError(
                    key_node.start_mark.line + 1,
                    "keys must be plain names (no merge keys `<<`, no complex keys)",
                )
            key = key_node.value
            if key in out:
                raise DataError(
                    key_node.start_mark.line + 1,
                    f"duplicate key {key!r}; each key may appear once, remove one of them",
                )
            out[key] = _build(value_node, (*loc, key), lines)
        return out
    raise DataError(node.start_mark.line + 1, "unsupported YAML node")  # pragma: no cover


class _QuotedDumper(yaml.SafeDumper):
    """Writes every string value quoted (or as a block) and keys plain."""

    def represent_mapping(self, tag: str, mapping: Any, flow_style: bool | None = None) -> Node:
        node = super().represent_mapping(tag, mapping, flow_style)
        for key, _ in node.value:
            key.style = None
        return node

    def ignore_aliases(self, data: Any) -> bool:
        return True


_QuotedDumper.add_representer(
    # block scalars (|) for multi-line text: like quotes, they are always read back as text
    str, lambda dumper, s: dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else "'")
)


def dumps(data: Any, schema: str | None = None) -> str:
    """Serialise data as YAML with quoted strings; dates must already be ISO strings."""
    body = yaml.dump(
        data,
        Dumper=_QuotedDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=10_000,
    )
    header = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    return header + body
