"""Reading JSON in the run-time steps without `import json`.

json.decoder compiles regular expressions when imported, so `import json` imports re and
enum, which the steps do without (wibond/__init__.py).
The steps only read JSON (the generator's snapshot, `ip -j`, their own records), and the
scanner json.loads itself runs is the C one in _json, which needs none of that. Writing
stays with json (the generator and the static step, which import it anyway).
"""

from __future__ import annotations


class _Options:
    """What _json.make_scanner reads from json.JSONDecoder; json.loads' defaults."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        return float(name.replace("Infinity", "inf"))  # NaN, Infinity, -Infinity as json reads them


_scan = None


def loads(text: str | bytes) -> object:
    """json.loads(TEXT); ValueError when it is not one JSON value."""
    global _scan
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if _scan is None:
        try:
            from _json import make_scanner
        except ImportError:  # a Python without the C scanner: json does it all
            import json

            return json.loads(text)
        _scan = make_scanner(_Options)
    ws = " \t\n\r"
    start = len(text) - len(text.lstrip(ws))
    try:
        value, end = _scan(text, start)
    except StopIteration:
        raise ValueError("not JSON") from None
    if text[end:].strip(ws):
        raise ValueError("extra data after the JSON value")
    return value
