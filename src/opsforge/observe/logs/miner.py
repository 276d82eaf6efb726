"""Online log template mining: lines grouped into templates, variables masked.

How a message finds its template (:meth:`TemplateMiner.add`):

1. Every run of digits becomes ``0`` (one C-speed substitution): most lines of a
   template then have the same *shape*, and a dictionary lookup on the shape is
   the hot path. Masking does not depend on which digits a chunk holds, so a
   shape's template is the template of all its lines. A new shape is masked
   (:func:`~opsforge.observe.logs.masking.mask`: numbers, addresses, ids, paths,
   sizes, dates and ``key=`` values become ``<*>``) and looked up again.
2. A new masked message is split into tokens and routed to a leaf by its token
   count and first two tokens (a token that is ``<*>`` routes as ``<*>``), as in
   Drain. In the leaf it joins the template it is most similar to, counting only
   the template's constant tokens, if at least :attr:`MinerConfig.similarity` of
   them match **and** every differing token may be a variable: the template
   already has ``<*>`` there, one side looks like a value (holds ``. _ / @ - :``
   or a capital after the first letter), or the template is long
   (:attr:`MinerConfig.long_template` constants). Two plain words at the same
   place of a short message (``VM Started`` / ``VM Stopped``) are two templates
   until step 3 finds that the place takes many values.
3. :meth:`TemplateMiner.consolidate` (run at the end of every batch) merges
   templates of equal length that differ at exactly one place when
   :attr:`MinerConfig.min_values` or more of them do (user names, program names
   in the first token). Merged ids are kept as aliases, so an id once handed out
   always resolves to the template that absorbed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from opsforge.observe.logs.masking import WILDCARD, mask

__all__ = ["MinerConfig", "Template", "TemplateMiner"]

_DIGITS = re.compile(r"\d+")
_VALUE_CHARS = frozenset("._/@-:\\#%$")
_SLOT_WORDS = frozenset(
    [
        "for",
        "from",
        "to",
        "by",
        "at",
        "of",
        "as",
        "on",
        "in",
        "with",
        "user",
        "type",
        "action",
        "state",
        "mode",
        "name",
        "is",
        "was",
    ]
)


@dataclass(frozen=True)
class MinerConfig:
    """The one default configuration; see the module docstring for each knob."""

    similarity: float = 0.5
    long_template: int = 14
    min_values: int = 5
    min_values_after_slot: int = 3
    min_pair_family: int = 5
    max_examples: int = 3
    cache_size: int = 500_000


@dataclass
class Template:
    """One template: its tokens, how often it was seen, when, and a few examples."""

    id: int
    tokens: list[str]
    count: int = 0
    first_seen: str = ""
    last_seen: str = ""
    examples: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def constants(self) -> int:
        return sum(1 for token in self.tokens if token != WILDCARD)


def _looks_like_value(token: str) -> bool:
    """True for tokens shaped like identifiers or values rather than words."""
    core = token.rstrip(".,;:!?)]}'\"").lstrip("([{'\"")
    if not core:
        return False
    return WILDCARD in core or not _VALUE_CHARS.isdisjoint(core)


def _route(token: str) -> str:
    return WILDCARD if WILDCARD in token or _looks_like_value(token) else token


def _is_slot(token: str) -> bool:
    """A word that usually introduces a variable: ``for X``, ``from X``, ``user X``."""
    return token.endswith((":", "=")) or token.lower() in _SLOT_WORDS


class TemplateMiner:
    """Groups messages into templates online; ids are stable across batches.

    ``add`` returns the id of the message's template at that moment; after
    :meth:`consolidate` an old id may have been merged into another one, and
    :meth:`resolve` gives the id it lives on as.
    """

    def __init__(self, config: MinerConfig | None = None) -> None:
        self.config = config or MinerConfig()
        self.templates: dict[int, Template] = {}
        self.aliases: dict[int, int] = {}
        self._leaves: dict[tuple[int, str, str], list[int]] = {}
        self._exact: dict[str, int] = {}
        self._shapes: dict[str, int] = {}
        self._next_id = 1

    # -- the hot path ---------------------------------------------------------

    def add(self, message: str, *, seen: str = "", example: str | None = None) -> int:
        """Mine one message (header already removed); the id of its template."""
        shape = _DIGITS.sub("0", message)
        template_id = self._shapes.get(shape)
        if template_id is None:
            masked = mask(shape)
            template_id = self._exact.get(masked)
            if template_id is None:
                template_id = self._place(masked)
            if len(self._shapes) >= self.config.cache_size:
                self._shapes.clear()
            self._shapes[shape] = template_id
        while template_id in self.aliases:
            template_id = self.aliases[template_id]
        template = self.templates[template_id]
        template.count += 1
        if seen:
            if not template.first_seen:
                template.first_seen = seen
            template.last_seen = seen
        if len(template.examples) < self.config.max_examples:
            text = message if example is None else example
            if text not in template.examples:
                template.examples.append(text)
        return template_id

    def match(self, message: str) -> Template | None:
        """The template ``message`` belongs to, without learning from it."""
        masked = mask(message)
        template_id = self._exact.get(masked)
        if template_id is not None:
            return self.templates[self.resolve(template_id)]
        tokens = masked.split()
        found = self._best(tokens, self._candidates(tokens))
        return self.templates[found] if found is not None else None

    def resolve(self, template_id: int) -> int:
        """The id an old template id lives on as after merges."""
        while template_id in self.aliases:
            template_id = self.aliases[template_id]
        return template_id

    # -- placing a new shape --------------------------------------------------

    @staticmethod
    def _key(tokens: list[str]) -> tuple[int, str, str]:
        first = _route(tokens[0]) if tokens else ""
        second = _route(tokens[1]) if len(tokens) > 1 else ""
        return (len(tokens), first, second)

    def _candidates(self, tokens: list[str]) -> list[int]:
        length, first, second = self._key(tokens)
        leaves = self._leaves
        found = list(leaves.get((length, first, second), ()))
        for key in (
            (length, WILDCARD, second),
            (length, first, WILDCARD),
            (length, WILDCARD, WILDCARD),
        ):
            if key != (length, first, second) and key in leaves:
                found.extend(leaves[key])
        return found

    def _place(self, masked: str) -> int:
        tokens = masked.split()
        found = self._best(tokens, self._candidates(tokens))
        if found is None:
            found = self._new(tokens)
            self._leaves.setdefault(self._key(tokens), []).append(found)
        else:
            template = self.templates[found]
            template.tokens = [
                old if old == new else WILDCARD
                for old, new in zip(template.tokens, tokens, strict=True)
            ]
        if len(self._exact) >= self.config.cache_size:
            self._exact.clear()
        self._exact[masked] = found
        return found

    def _new(self, tokens: list[str]) -> int:
        template_id = self._next_id
        self._next_id += 1
        self.templates[template_id] = Template(template_id, list(tokens))
        return template_id

    def _best(self, tokens: list[str], leaf: list[int]) -> int | None:
        best: int | None = None
        best_score = -1.0
        config = self.config
        for template_id in leaf:
            template = self.templates[template_id]
            constants = 0
            same = 0
            allowed = True
            long = template.constants() >= config.long_template
            for old, new in zip(template.tokens, tokens, strict=True):
                if old == WILDCARD:
                    continue
                constants += 1
                if old == new:
                    same += 1
                elif not long and not (
                    new == WILDCARD or _looks_like_value(old) or _looks_like_value(new)
                ):
                    allowed = False
                    break
            if not allowed:
                continue
            score = 1.0 if constants == 0 else same / constants
            if score >= config.similarity and score > best_score:
                best, best_score = template_id, score
        return best

    # -- consolidation ----------------------------------------------------------

    def consolidate(self) -> dict[int, int]:
        """Merge templates that differ at one place taking many values; the merges."""
        merged: dict[int, int] = {}
        for _round in range(8):
            if not self._merge_groups(self._single_place_groups(), merged) and not (
                self._merge_groups(self._pair_families(), merged)
            ):
                break
        self._dedupe(merged)
        return merged

    def _merge_groups(self, groups: Iterator[set[int]], merged: dict[int, int]) -> bool:
        changed = False
        for group in list(groups):
            live = sorted({self.resolve(template_id) for template_id in group})
            for other in live[1:]:
                self._merge(other, live[0])
                merged[other] = live[0]
                changed = True
        return changed

    def _by_length(self) -> Iterator[list[Template]]:
        by_length: dict[int, list[Template]] = {}
        for template in self.templates.values():
            by_length.setdefault(len(template.tokens), []).append(template)
        return iter(by_length.values())

    def _single_place_groups(self) -> Iterator[set[int]]:
        for templates in self._by_length():
            if len(templates) < 2:
                continue
            groups: dict[tuple[int, tuple[str, ...]], set[int]] = {}
            for template in templates:
                tokens = template.tokens
                for index, token in enumerate(tokens):
                    if token == WILDCARD:
                        continue
                    key = (index, (*tokens[:index], *tokens[index + 1 :]))
                    groups.setdefault(key, set()).add(template.id)
            shapes = {tuple(t.tokens): t.id for t in templates}
            config = self.config
            for (index, rest), ids in groups.items():
                wildcard = shapes.get((*rest[:index], WILDCARD, *rest[index:]))
                if wildcard is not None:
                    if ids:
                        yield {*ids, wildcard}
                    continue
                needed = config.min_values
                if index and _is_slot(rest[index - 1]):
                    needed = config.min_values_after_slot
                if len(ids) >= needed:
                    yield ids

    def _pair_families(self) -> Iterator[set[int]]:
        """Templates that differ at the same two places, in many combinations."""
        for templates in self._by_length():
            if len(templates) >= self.config.min_pair_family:
                yield from self._pair_family(templates)

    def _pair_family(self, templates: list[Template]) -> Iterator[set[int]]:
        families: dict[tuple[str, ...], set[int]] = {}
        for template in templates:
            tokens = template.tokens
            places = [i for i, token in enumerate(tokens) if token != WILDCARD]
            if len(places) > 40:
                continue
            for a, first in enumerate(places):
                for second in places[a + 1 :]:
                    key = list(tokens)
                    key[first] = key[second] = f"<{first}:{second}>"
                    families.setdefault(tuple(key), set()).add(template.id)
        for ids in families.values():
            if len(ids) >= self.config.min_pair_family:
                yield ids

    def _merge(self, source_id: int, target_id: int) -> None:
        source = self.templates.pop(source_id)
        target = self.templates[target_id]
        self._leaves[self._key(source.tokens)].remove(source_id)
        self._leaves[self._key(target.tokens)].remove(target_id)
        target.tokens = [
            old if old == new else WILDCARD
            for old, new in zip(target.tokens, source.tokens, strict=True)
        ]
        target.count += source.count
        if source.first_seen and (not target.first_seen or source.first_seen < target.first_seen):
            target.first_seen = source.first_seen
        if source.last_seen > target.last_seen:
            target.last_seen = source.last_seen
        for example in source.examples:
            if len(target.examples) < self.config.max_examples:
                target.examples.append(example)
        self.aliases[source_id] = target_id
        self._leaves.setdefault(self._key(target.tokens), []).append(target_id)

    def _dedupe(self, merged: dict[int, int]) -> None:
        seen: dict[tuple[str, ...], int] = {}
        for template_id in sorted(self.templates):
            key = tuple(self.templates[template_id].tokens)
            if key in seen:
                self._merge(template_id, seen[key])
                merged[template_id] = seen[key]
            else:
                seen[key] = template_id

    # -- loading saved state ----------------------------------------------------

    def load(self, templates: Iterable[Template], aliases: dict[int, int]) -> None:
        """Start from saved templates (and their aliases) so ids continue."""
        for template in templates:
            self.templates[template.id] = template
            self._leaves.setdefault(self._key(template.tokens), []).append(template.id)
            self._next_id = max(self._next_id, template.id + 1)
        self.aliases.update(aliases)
        if aliases:
            self._next_id = max(self._next_id, max(aliases) + 1)
