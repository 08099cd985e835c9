"""JSON without `import json`: reading for the run-time steps, writing for the generator.

json.decoder and json.encoder compile regular expressions when imported, so `import json`
imports re and enum, which the steps do without (wibond/__init__.py); and json.dumps with
an indent runs its pure-Python encoder, most of what the generator spent on its snapshot.
The steps only read JSON (the generator's snapshot, `ip -j`, their own records): the
scanner json.loads itself runs is the C one in _json. The generator writes its snapshot with
dumps() below, byte for byte what json.dumps(indent=1, sort_keys=True) writes, with _json's
C string encoder.
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


def dumps(value: object) -> str:
    """json.dumps(VALUE, indent=1, sort_keys=True) for dicts, lists, strings, numbers,
    booleans and None."""
    try:
        from _json import encode_basestring_ascii as string
    except ImportError:
        import json

        return json.dumps(value, indent=1, sort_keys=True)
    out: list[str] = []

    def write(v: object, level: int) -> None:
        if v is None:
            out.append("null")
        elif v is True:
            out.append("true")
        elif v is False:
            out.append("false")
        elif isinstance(v, str):
            out.append(string(v))
        elif isinstance(v, int):
            out.append(int.__repr__(v))
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                out.append("NaN" if v != v else ("Infinity" if v > 0 else "-Infinity"))
            else:
                out.append(float.__repr__(v))
        elif isinstance(v, dict):
            if not v:
                out.append("{}")
                return
            inner = "\n" + " " * (level + 1)
            out.append("{")
            for i, key in enumerate(sorted(v)):
                out.append(("," if i else "") + inner + string(str(key)) + ": ")
                write(v[key], level + 1)
            out.append("\n" + " " * level + "}")
        elif isinstance(v, (list, tuple)):
            if not v:
                out.append("[]")
                return
            inner = "\n" + " " * (level + 1)
            out.append("[")
            for i, item in enumerate(v):
                out.append(("," if i else "") + inner)
                write(item, level + 1)
            out.append("\n" + " " * level + "]")
        else:
            raise TypeError(f"{type(v).__name__} is not JSON")

    write(value, 0)
    return "".join(out)
