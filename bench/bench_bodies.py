"""HTML body splitting: the HTML5 splitter (selectolax/lexbor + `textblocks`) against the stdlib
`html.parser` splitter it replaced, on the dev set's HTML bodies, in one process.

    .venv/bin/python bench/bench_bodies.py [--passes N]

Reads the bodies from ../shared/eval/dev and dev-ner (or $NEWSCLEAN_BENCH_EVAL), never copies
them. Prints, and writes to bench/out/bodies.json:
- parity: on how many dev bodies (every content type) the two splitters give other paragraphs
  (must be 0: the dev HTML is `<p>` elements, which both read alike);
- speed: best-of-N seconds per pass over all HTML bodies for each splitter, and their ratio;
  parse-only time of the HTML5 parser, to show where the time goes; and the same for the split
  step over every dev body (plain ones too), as `parse_article` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from streams.core.paragraphs import split_body, split_html, split_plain  # noqa: E402

EVAL = Path(os.environ.get("NEWSCLEAN_BENCH_EVAL", ROOT.parent / "shared" / "eval"))

# --- the baseline: the stdlib splitter as it was before the HTML5 parser (commit 3f83c0c) ---
_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
_SKIPPED = frozenset("script style template noscript head title iframe object svg math".split())


class _StdlibBlockText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._parts: list[str] = []
        self._skip_depth = 0

    def flush(self) -> None:
        text = " ".join("".join(self._parts).split())
        if text:
            self.paragraphs.append(text)
        self._parts.clear()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag in _BLOCKS:
            self.flush()

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCKS:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._parts.append(data)


def stdlib_split_html(markup: str) -> list[str]:
    parser = _StdlibBlockText()
    parser.feed(markup)
    parser.close()
    parser.flush()
    return parser.paragraphs


def stdlib_split_body(value: str, content_type: str | None) -> list[str]:
    if content_type and "html" in content_type.lower():
        return stdlib_split_html(value)
    return split_plain(value)


def dev_bodies() -> list[dict]:
    bodies = []
    for name in ("dev", "dev-ner"):
        path = EVAL / name / "raw.jsonl"
        if path.exists():
            bodies += [b for line in path.open() for b in json.loads(line).get("bodies", [])]
    if not bodies:
        sys.exit(f"no evaluation set under {EVAL}")
    return bodies


def best(call, items: list[str], passes: int) -> float:
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for item in items:
            call(item)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20)
    args = parser.parse_args()
    bodies = dev_bodies()
    differing = sum(
        split_body(b["value"], b.get("contentType")) != stdlib_split_body(b["value"], b.get("contentType")) for b in bodies
    )
    html = [b["value"] for b in bodies if "html" in (b.get("contentType") or "").lower()]
    stdlib = best(stdlib_split_html, html, args.passes)
    html5 = best(split_html, html, args.passes)
    parse_only = best(LexborHTMLParser, html, args.passes)
    # the whole split step of every dev body (plain ones too), as parse_article runs it
    pairs = [(b["value"], b.get("contentType")) for b in bodies]
    all_stdlib = best(lambda pair: stdlib_split_body(*pair), pairs, args.passes)
    all_new = best(lambda pair: split_body(*pair), pairs, args.passes)
    result = {
        "bodies": len(bodies),
        "html_bodies": len(html),
        "html_kib": round(sum(map(len, html)) / 1024, 1),
        "differing_bodies": differing,
        "stdlib_s": round(stdlib, 5),
        "html5_s": round(html5, 5),
        "html5_parse_only_s": round(parse_only, 5),
        "html5_vs_stdlib": round(html5 / stdlib, 3),
        "all_bodies_stdlib_s": round(all_stdlib, 5),
        "all_bodies_new_s": round(all_new, 5),
        "all_bodies_new_vs_stdlib": round(all_new / all_stdlib, 3),
    }
    print(f"{len(bodies)} dev bodies, {differing} with other paragraphs than the stdlib splitter")
    print(f"{len(html)} HTML bodies ({result['html_kib']} KiB), best of {args.passes} passes:")
    print(f"  stdlib html.parser splitter  {stdlib * 1000:8.2f} ms   1.000")
    print(f"  HTML5 splitter (lexbor)      {html5 * 1000:8.2f} ms   {html5 / stdlib:.3f}")
    print(f"    of which lexbor's parse    {parse_only * 1000:8.2f} ms   {parse_only / stdlib:.3f}")
    print(f"all {len(bodies)} bodies, split_body as parse_article calls it:")
    print(f"  before (stdlib for HTML)     {all_stdlib * 1000:8.2f} ms   1.000")
    print(f"  now                          {all_new * 1000:8.2f} ms   {all_new / all_stdlib:.3f}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "bodies.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
