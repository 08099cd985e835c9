"""Read a directory tree as {relative path: ('file', text) | ('link', target)}."""

from __future__ import annotations

import os
import shutil

EMPTY_MARKER = ".empty"  # stands for "this directory is empty" in a golden tree


def read_tree(top: str) -> dict[str, tuple[str, str]]:
    tree: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, top)
            if os.path.islink(path):
                tree[rel] = ("link", os.readlink(path))
            elif name != EMPTY_MARKER:
                with open(path, encoding="utf-8") as f:
                    tree[rel] = ("file", f.read())
    return tree


def write_tree(tree: dict[str, tuple[str, str]], top: str) -> None:
    if os.path.exists(top):
        shutil.rmtree(top)
    os.makedirs(top)
    if not tree:
        open(os.path.join(top, EMPTY_MARKER), "w").close()
    for rel, (kind, value) in tree.items():
        path = os.path.join(top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "link":
            os.symlink(value, path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(value)


def diff_trees(expected: dict, actual: dict) -> list[str]:
    out = []
    for rel in sorted(set(expected) | set(actual)):
        if rel not in actual:
            out.append(f"missing: {rel}")
        elif rel not in expected:
            out.append(f"unexpected: {rel} = {actual[rel]}")
        elif expected[rel] != actual[rel]:
            out.append(f"differs: {rel}\n  expected {expected[rel]!r}\n  actual   {actual[rel]!r}")
    return out
