"""results.json -> the markdown table in bench/README.md (between the two markers)."""

from __future__ import annotations

from pathlib import Path

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def _rate(step: dict | None) -> str:
    if not step:
        return "–"
    if "error" in step:
        return "error"
    return f"{step['rate']:,.0f}" if step["rate"] >= 100 else f"{step['rate']:,.1f}"


def _cpu(step: dict | None) -> str:
    cpu = (step or {}).get("cpu") or {}
    per = cpu.get("worker_cpu_ms_per_article", cpu.get("cpu_ms_per_article"))
    return f"{per:.2f}" if per is not None else "–"


def _others(step: dict | None) -> str:
    cpu = (step or {}).get("cpu") or {}
    return f"{cpu['other_processes_cores']:.2f}" if cpu.get("other_processes_cores") is not None else "–"


def _halves(memory: dict) -> str:
    first, second = memory.get("table_keys_peak_halves") or (None, None)
    if not first:  # the key gauge had no sample yet in a short run's first half
        return "keys not sampled in the first half"
    return f"key peaks {first:.0f} / {second:.0f}"


def _ok(target: dict) -> str:
    return "met" if target.get("met") else "**missed**"


def table(results: dict) -> str:
    s, r, t, m = results["steps"], results["ratios"], results["targets"], results["machine"]
    stream = results["stream"]
    lat = results.get("latency", {}).get("ms", {})
    mem = results.get("memory", {})
    run = results["run"]
    lines = [
        f"Run {run['finished']} ({run['mode']}), `{run['command']}`, git {run.get('git', '?')}.",
        f"Machine: {m['cpu']}, {m['cores_logical']} cores, {m['ram_gib']} GiB RAM, {m['os']}, Python {m['python']}, "
        f"Kafka {m['kafka']} (local, 1 broker), faust-streaming {m['faust_streaming']}, aiokafka {m['aiokafka']}, spaCy {m['spacy']}.",
        f"Load average before/after: {run['load_before']['load_1m']} / {run['load_after']['load_1m']} "
        "(the 2 cores were shared with other processes).",
        *(f"Rerun with `--only {' '.join(r['steps'])}` at {r['at']} (load {r['load_before']['load_1m']} / "
          f"{r['load_after']['load_1m']}): the first attempt was disturbed." for r in run.get("rerun", [])),
        f"Stream: {stream['messages']:,} messages ({stream['invalid']} broken), {stream['copies']} copies of {stream['origin']}, "
        f"event time spanning {stream['event_days']:.0f} days; NER steps read the first {stream['ner_messages']:,}.",
        "",
        "| step | what | articles/s | CPU ms / article | other processes (cores busy) |",
        "| --- | --- | ---: | ---: | ---: |",
        *(f"| {label} | {what} | {_rate(s.get(key))} | {_cpu(s.get(key))} | {_others(s.get(key))} |" for label, what, key in (
            ("B0", "raw aiokafka consume → produce, 1 hop", "B0"),
            ("B0'", "the same, 2 hops (the worker's route + clean shape)", "B0_two_hops"),
            ("B1", "worker, NER off, 1 process", "B1"),
            ("B4", "worker, NER off, 2 processes", "B4"),
            ("B2 faulty", "standalone `nlp.pipe`, headline + every raw paragraph", "B2_faulty"),
            ("B3 faulty", "worker, NER on", "B3_faulty"),
            ("B2 clean", "standalone `nlp.pipe`, headline + gold kept paragraphs", "B2_clean"),
            ("B3 clean", "worker, NER on, clean feed", "B3_clean"),
        )),
        "",
        "| measure | value | target | |",
        "| --- | ---: | ---: | --- |",
        f"| R1 = B1 / B0 | {r.get('R1', '–')} | ≥ 0.5 | {_ok(t['R1'])} |",
        f"| R2 clean = B3 / B2 | {r.get('R2_clean', '–')} | ≥ 1.0 | {_ok(t['R2_clean'])} |",
        f"| R2 faulty = B3 / B2 | {r.get('R2_faulty', '–')} | > R2 clean | {_ok(t['R2_faulty'])} |",
        f"| scaling = B4 / B1 | {r.get('scaling', '–')} | ≥ 1.5 | {_ok(t['scaling'])} |",
        f"| latency p50 / p95 / p99 at {results.get('latency', {}).get('rate_target', 20)} articles/s, NER on (ms) | "
        f"{lat.get('p50', '–')} / {lat.get('p95', '–')} / {lat.get('p99', '–')} | p99 ≤ 200 | {_ok(t['p99'])} |",
        f"| worker RSS over B1 (MiB): first / peak / last; growth over the second half | {mem.get('rss_mib_first', '–')} / "
        f"{mem.get('rss_mib_peak', '–')} / {mem.get('rss_mib_last', '–')}; {100 * (t['memory'].get('rss_growth_second_half') or 0):+.1f} % | "
        f"< 5 %, table keys no higher than in the first half ({_halves(t['memory'])}) | {_ok(t['memory'])} |",
        f"| rolling table keys over B1: peak / last | {mem.get('table_keys_peak', '–')} / {mem.get('table_keys_last', '–')} | bounded | |",
    ]
    issue15 = t.get("issue15") or {}
    if issue15:
        lines += ["", "| issue 15's target | value | |", "| --- | ---: | --- |"]
        lines += [f"| {name} | {one['value'] if one['value'] is not None else '–'} | "
                  f"{'–' if one['met'] is None else _ok(one)} |" for name, one in issue15.items()]
    curve = results.get("latency_curve") or []
    if len(curve) > 1:
        lines += ["", "| latency at (articles/s, NER on) | p50 ms | p95 ms | p99 ms | max ms |", "| ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {c['rate']:g} | {c.get('p50', '–')} | {c.get('p95', '–')} | {c.get('p99', '–')} | {c.get('max', '–')} |" for c in curve]
    return "\n".join(lines)


def write_readme(readme: Path, results: dict) -> None:
    text = readme.read_text() if readme.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table(results)}\n{END}{tail}")
