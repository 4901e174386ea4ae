"""Many strings looked for in one pass over a text (Aho-Corasick), for the analyses that
would otherwise search the whole file once per instruction (issue 24: linear everywhere)."""

from __future__ import annotations

from collections import deque


def automaton(names: set[str]) -> tuple[list[dict[str, int]], list[int], list[int], dict[str, int]]:
    """An Aho-Corasick automaton of ``names``: goto, fail, the states shortest first, and the
    state each name ends in."""
    goto: list[dict[str, int]] = [{}]
    ends: dict[str, int] = {}
    for name in names:
        state = 0
        for character in name:
            following = goto[state].get(character)
            if following is None:
                following = goto[state][character] = len(goto)
                goto.append({})
            state = following
        ends[name] = state
    fail = [0] * len(goto)
    order: list[int] = []
    queue = deque(goto[0].values())
    while queue:
        state = queue.popleft()
        order.append(state)
        for character, following in goto[state].items():
            back = fail[state]
            while back and character not in goto[back]:
                back = fail[back]
            target = goto[back].get(character, 0)
            fail[following] = target if target != following else 0
            queue.append(following)
    return goto, fail, order, ends


def first_two(texts: list[str], names: set[str]) -> dict[str, list[int]]:
    """The first two of ``texts`` (by index) that hold each name, as ``name in text`` says,
    every name found in one pass over the texts."""
    goto, fail, order, ends = automaton(names)
    reached: list[list[int]] = [[] for _ in goto]  # the first two texts that reached each state
    for index, held in enumerate(texts):
        if len(reached[0]) < 2:
            reached[0].append(index)  # the empty string, which every text holds
        state = 0
        for character in held:
            while state and character not in goto[state]:
                state = fail[state]
            state = goto[state].get(character, 0)
            seen = reached[state]
            if len(seen) < 2 and (not seen or seen[-1] != index):
                seen.append(index)
    for state in reversed(order):  # the longest first: a text that holds a string holds its suffixes
        back = fail[state]
        reached[back] = sorted(set(reached[back] + reached[state]))[:2]
    return {name: reached[state] for name, state in ends.items()}


def last_starts(text: str, names: set[str]) -> dict[str, int]:
    """Where the last occurrence of each name starts in ``text`` (-1: nowhere), every name
    found in one pass over the text."""
    if len(names) == 1 and "" not in names:  # (rfind finds "" at the end even of "")
        return {name: text.rfind(name) for name in names}
    goto, fail, order, ends = automaton(names)
    last = [-1] * len(goto)  # where a match of the state's string last ended
    state = 0
    for position, character in enumerate(text):
        while state and character not in goto[state]:
            state = fail[state]
        state = goto[state].get(character, 0)
        last[state] = position
    for state in reversed(order):
        last[fail[state]] = max(last[fail[state]], last[state])
    return {name: last[state] - len(name) + 1 if last[state] >= 0 else -1 for name, state in ends.items()}
