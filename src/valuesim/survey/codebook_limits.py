"""How big a codebook file may be, and reading its YAML safely.

Codebooks are shared between researchers, so a codebook file is input from someone else: each
limit below is checked before the work it bounds (the file's size before reading it, the YAML
node count with aliases expanded before building a Python object, an ordinal range's width
before listing its options), so a hostile or broken file is refused in one line within seconds
instead of running for minutes in gigabytes. The limits are far above any real survey's (WVS-7:
290 items, at most ~1,000 options in one code list, item texts under 1,000 characters).
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_FILE_BYTES = 50 * 1024 * 1024  # a 20,000-item codebook is ~5 MB of YAML
MAX_NODES = 2_000_000  # YAML values after alias expansion
MAX_ITEMS = 20_000
MAX_OPTIONS = 5_000  # options (codes) of one item; an ordinal range may list no more
MAX_TEXT = 20_000  # characters of an item's text, a label, a statement or any other string


ANCHOR = re.compile(r"(?:^|[\s\[{,])&\S", re.M)  # where an anchor (&name) could start


class TooBig(ValueError):
    """A limit was exceeded (the message says which and by how much)."""


@lru_cache(maxsize=1)
def yaml_loader():
    """PyYAML's SafeLoader read the YAML 1.2 way: only true/false are booleans and only ``~`` or
    nothing is null, so ``{1: yes, 2: no}``, an id ``on`` or ``null`` stay the words they are; whole
    numbers are decimal (``010`` is 10, not octal 8; no ``1:30`` sexagesimal)."""
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where installed: 20x faster
        pass

    dropped = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:int"}
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in dropped]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|)$"), ["~", ""])
    Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
    Loader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: int(loader.construct_scalar(node), 10))
    return Loader


def load_yaml(text: str):
    """The document of ``text``, refused (TooBig) when its aliases would expand past MAX_NODES
    values (an "alias bomb": a few lines of anchors that stand for billions of strings)."""
    precheck(text)
    loader = yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        count = expanded_size(node) if ANCHOR.search(text) else 0  # (no anchor, no alias: as big as the text)
        if count > MAX_NODES:
            raise TooBig(f"its YAML aliases expand to {count:,} values (more than {MAX_NODES:,}; an alias bomb?)")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def precheck(text: str) -> None:
    """What can be refused from the parser's event stream alone (a tenth of the time of building
    the document): more than MAX_ITEMS items, or more than MAX_NODES values. Stops at the first."""
    import yaml

    depth, events, items_at = 0, 0, None  # items_at: depth of the top-level items list's entries
    key_next, in_root, count = False, False, 0
    for event in yaml.parse(text, Loader=yaml_loader()):
        events += 1
        if events > MAX_NODES:
            raise TooBig(f"it holds more than {MAX_NODES:,} values")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if depth == items_at:
                count += 1
            if items_at is None and in_root and key_next and isinstance(event, yaml.SequenceStartEvent):
                items_at = depth + 1
            depth += 1
            in_root = depth == 1 and isinstance(event, yaml.MappingStartEvent) or in_root
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            if items_at is not None and depth == items_at - 1:
                items_at = -1  # the list ended
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)) and depth == items_at:
            count += 1
        if count > MAX_ITEMS:
            raise TooBig(f"key 'items': more than {MAX_ITEMS:,} items is more than a codebook may hold")
        key_next = depth == 1 and isinstance(event, yaml.ScalarEvent) and event.value == "items"


def expanded_size(root) -> int:
    """How many values a YAML node graph holds with every alias written out (each shared node
    counted once per use), worked out once per node, so a bomb costs time linear in its text."""
    import yaml

    if isinstance(root, yaml.ScalarNode):
        return 1
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack = [(root, False)]
    while stack:  # (no recursion: a deeply nested file must not overflow the stack)
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in visiting:  # reached again from inside itself
            raise TooBig("a YAML alias refers to a value that contains it (a recursive structure)")
        children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
        if done:  # scalars count 1 each; collections were sized before their parent
            sizes[id(node)] = 1 + sum(1 if isinstance(c, yaml.ScalarNode) else sizes[id(c)] for c in children)
        else:
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if not isinstance(c, yaml.ScalarNode) and id(c) not in sizes)
    return sizes[id(root)]


def too_long(value, limit: int = MAX_TEXT) -> bool:
    return isinstance(value, str) and len(value) > limit
