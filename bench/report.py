#!/usr/bin/env python3
"""Turn scripts/bench.sh's raw run records into the Markdown results table.

    python3 bench/report.py RUNS.tsv META.md OUT.md

RUNS.tsv has one line per run: scenario, contestant, round, kind, file, cpu_ticks, clk_tck, note,
suite (tcp, http or fwd; tcp when the column is missing). kind is "wrk" (file = wrk's output), "curl"
(file = lines "bytes seconds http_code"), "mem" (file = "rss_before_kib rss_after_kib
connections_ok connections_wanted"), "na" or "fail" (note says why). Each suite gets its tables and
ratios; the http and fwd suites also get their issue's targets, met or missed. The tables go to stdout and,
after META.md's text, to OUT.md.
"""
import re
import statistics
import sys

NAMES = {
    "A": "direct (backend alone)",
    "B": "sluice mode tcp",
    "C": "haproxy mode tcp",
    "D": "haproxy mode tcp + splice",
    "E": "sluice mode http",
    "F": "haproxy mode http",
    "G": "haproxy mode http + splice-response",
    "H": "nginx (proxy_pass, upstream keepalive 64)",
    "I": "sluice forward proxy (option http_proxy)",
    "J": "squid (1 process, cache deny all)",
    "K": "tinyproxy (thread per connection)",
}
SUITE_TITLE = {"tcp": "tcp suite (mode tcp)", "http": "http suite (mode http)",
               "fwd": "fwd suite (forward proxy)"}
SCEN = {
    "S1": "S1 keep-alive, small responses (wrk -c64)",
    "S2": "S2 new connection per request (wrk -c64, Connection: close)",
    "S3": "S3 1 MiB responses (wrk -c8)",
    "S4": "S4 sequential 64 MiB downloads (curl)",
    "S5": "S5 idle keep-alive connections (RSS growth)",
    "F1": "F1 keep-alive absolute-URI GETs, small responses (wrk -c64)",
    "F2": "F2 sequential 64 MiB downloads through a CONNECT tunnel (curl -p -x)",
}
MBPS_SCENS = ("S3", "S4", "F2")
UNIT = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
TIME = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def parse_wrk(path):
    """Returns a dict with requests, seconds, bytes, rps, mbps, p50, p99 (µs), errors."""
    text = open(path, errors="replace").read()
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)(B|KB|MB|GB|TB) read", text)
    if not m:
        return None
    r["requests"] = int(m.group(1))
    r["seconds"] = float(m.group(2)) * TIME[m.group(3)] / 1e6
    r["bytes"] = float(m.group(4)) * UNIT[m.group(5)]
    r["rps"] = r["requests"] / r["seconds"] if r["seconds"] else 0.0
    r["mbps"] = r["bytes"] / r["seconds"] / 1e6 if r["seconds"] else 0.0
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s|m)\s*$" % pct, text, re.M)
        r["p" + pct] = float(m.group(1)) * TIME[m.group(2)] if m else None
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    r["errors"] = errors
    return r


def parse_curl(path):
    total_bytes, total_s, ok, errors = 0.0, 0.0, 0, 0
    for line in open(path):
        parts = line.split()
        if len(parts) != 3 or parts[2] != "200":
            errors += 1
            continue
        total_bytes += float(parts[0])
        total_s += float(parts[1])
        ok += 1
    if not ok or not total_s:
        return None
    return {"requests": ok, "seconds": total_s, "bytes": total_bytes,
            "rps": ok / total_s, "mbps": total_bytes / total_s / 1e6,
            "p50": None, "p99": None, "errors": errors}


def parse_mem(path):
    parts = open(path).read().split()
    if len(parts) != 4:
        return None
    before, after, ok, wanted = (int(x) for x in parts)
    return {"kib": (after - before) / ok if ok else None, "ok": ok, "wanted": wanted,
            "errors": wanted - ok}


def load(path):
    runs = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 8:
            continue
        scen, cont, rnd, kind, file, ticks, hz, note = f[:8]
        suite = f[8] if len(f) > 8 and f[8] else "tcp"
        r = None
        if kind == "wrk":
            r = parse_wrk(file)
        elif kind == "curl":
            r = parse_curl(file)
        elif kind == "mem":
            r = parse_mem(file)
        if r is None:
            r = {"na": note or ("no output" if kind in ("wrk", "curl", "mem") else kind)}
        elif kind in ("wrk", "curl") and ticks and r["requests"]:
            r["cpu"] = int(ticks) * 1e6 / int(hz) / r["requests"]
        if note and "na" not in r:
            r["note"] = note
        runs.setdefault((suite, scen, cont), []).append((int(rnd), r))
    return runs


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, kind):
    if v is None:
        return "n/a"
    if kind == "rps":
        return f"{v:,.0f}"
    if kind == "mbps":
        return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"
    if kind == "lat":
        return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"
    if kind == "cpu":
        return f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"
    if kind == "kib":
        return f"{v:.2f}"
    if kind == "ratio":
        return f"{v:.2f}×"
    return str(v)


def summarize(runs):
    """Per (scenario, contestant): medians and raw values."""
    out = {}
    for key, rs in runs.items():
        rs.sort(key=lambda x: x[0])
        good = [r for _, r in rs if "na" not in r]
        s = {"rounds": rs, "n": len(good)}
        for k in ("rps", "mbps", "p50", "p99", "cpu", "kib"):
            s[k] = med([r.get(k) for r in good])
        s["errors"] = sum(r.get("errors", 0) for r in good)
        s["na"] = sorted({r["na"] for _, r in rs if "na" in r})
        s["notes"] = sorted({r["note"] for _, r in rs if "note" in r})
        out[key] = s
    return out


def table(summary, suite, scens, conts):
    """summary: per (scenario, contestant) of one suite."""
    lines = []
    for scen in scens:
        if not any((scen, c) in summary for c in conts):
            continue
        lines.append(f"### {suite}: {SCEN.get(scen, scen)}")
        lines.append("")
        if scen == "S5":
            lines.append("| contestant | KiB / idle conn (median) | every round | connections ok |")
            lines.append("|---|---:|---|---:|")
        else:
            main = "mbps" if scen in MBPS_SCENS else "rps"
            lines.append("| contestant | req/s | MB/s | p50 | p99 | CPU µs/req | errors |"
                         f" every round ({'MB/s' if main == 'mbps' else 'req/s'}) |"
                         " every round (CPU µs/req) |")
            lines.append("|---|---:|---:|---:|---:|---:|---:|---|---|")
        for c in conts:
            s = summary.get((scen, c))
            if s is None:
                continue
            name = NAMES.get(c, c)
            if scen == "S5":
                raw = " / ".join(fmt(r.get("kib"), "kib") if "na" not in r else "n/a"
                                 for _, r in s["rounds"])
                oks = " / ".join(str(r.get("ok", "-")) for _, r in s["rounds"])
                lines.append(f"| {name} | {fmt(s['kib'], 'kib')} | {raw} | {oks} |")
            else:
                raw = " / ".join(fmt(r.get(main), main) if "na" not in r else "n/a"
                                 for _, r in s["rounds"])
                cpus = " / ".join(fmt(r.get("cpu"), "cpu") if "na" not in r else "n/a"
                                  for _, r in s["rounds"])
                lines.append(f"| {name} | {fmt(s['rps'], 'rps')} | {fmt(s['mbps'], 'mbps')} | "
                             f"{fmt(s['p50'], 'lat')} | {fmt(s['p99'], 'lat')} | "
                             f"{fmt(s['cpu'], 'cpu')} | {s['errors']} | {raw} | {cpus} |")
        notes = [(NAMES.get(c, c), s) for c in conts if (s := summary.get((scen, c)))]
        for name, s in notes:
            for why in s["na"]:
                lines.append(f"\n- {name}: n/a: {why}")
            for why in s["notes"]:
                lines.append(f"\n- {name}: {why}")
        lines.append("")
    return lines


def ratio(a, b):
    return a / b if a is not None and b else None


def ratios(summary, scens):
    lines = ["### tcp: ratios (medians)", "",
             "| scenario | metric | sluice / haproxy best | sluice / direct | haproxy best / direct "
             "| haproxy best is | sluice CPU / haproxy CPU |",
             "|---|---|---:|---:|---:|---|---:|"]
    for scen in scens:
        get = lambda c, k: summary.get((scen, c), {}).get(k)  # noqa: E731
        if scen == "S5":
            k, metric = "kib", "KiB / idle conn (lower is better)"
            cands = [(get(c, k), c) for c in ("C", "D") if get(c, k) is not None]
            best = min(cands) if cands else (None, None)
        else:
            k = "mbps" if scen in ("S3", "S4") else "rps"
            metric = "MB/s" if k == "mbps" else "req/s"
            cands = [(get(c, k), c) for c in ("C", "D") if get(c, k) is not None]
            best = max(cands) if cands else (None, None)
        if best[1] is None and get("B", k) is None:
            continue
        hb, hc = best
        cpu = ratio(get("B", "cpu"), get(hc, "cpu")) if hc and scen != "S5" else None
        lines.append(f"| {scen} | {metric} | {fmt(ratio(get('B', k), hb), 'ratio')} | "
                     f"{fmt(ratio(get('B', k), get('A', k)), 'ratio')} | "
                     f"{fmt(ratio(hb, get('A', k)), 'ratio')} | {NAMES.get(hc, 'n/a')} | "
                     f"{fmt(cpu, 'ratio')} |")
    lines.append("")
    return lines


def best_of(get, conts, k, lower=False):
    """(value, contestant) of the best of conts on k, or (None, None)."""
    cands = [(get(c, k), c) for c in conts if get(c, k) is not None]
    if not cands:
        return None, None
    return min(cands) if lower else max(cands)


def http_ratios(summary, scens):
    lines = ["### http: ratios (medians)", "",
             "| scenario | metric | sluice / haproxy best | haproxy best is | sluice / nginx "
             "| sluice / direct | sluice CPU / haproxy best CPU | sluice CPU / nginx CPU "
             "| sluice p99 / haproxy best p99 |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for scen in scens:
        get = lambda c, k: summary.get((scen, c), {}).get(k)  # noqa: E731
        s5 = scen == "S5"
        k = "kib" if s5 else "mbps" if scen in MBPS_SCENS else "rps"
        metric = {"kib": "KiB / idle conn (lower is better)", "mbps": "MB/s", "rps": "req/s"}[k]
        hb, hc = best_of(get, ("F", "G"), k, lower=s5)
        if hc is None and get("E", k) is None:
            continue
        cpu_h = ratio(get("E", "cpu"), get(hc, "cpu")) if hc and not s5 else None
        cpu_n = ratio(get("E", "cpu"), get("H", "cpu")) if not s5 else None
        p99 = ratio(get("E", "p99"), get(hc, "p99")) if hc and not s5 else None
        lines.append(f"| {scen} | {metric} | {fmt(ratio(get('E', k), hb), 'ratio')} | "
                     f"{NAMES.get(hc, 'n/a')} | {fmt(ratio(get('E', k), get('H', k)), 'ratio')} | "
                     f"{fmt(ratio(get('E', k), get('A', k)), 'ratio')} | {fmt(cpu_h, 'ratio')} | "
                     f"{fmt(cpu_n, 'ratio')} | {fmt(p99, 'ratio')} |")
    lines.append("")
    return lines


def http_targets(summary, scens):
    """The targets of issue 3 against this run's medians, each against the best haproxy http."""
    lines = ["### http: targets of issue 3 (this run's medians)", "",
             "| target | sluice | other | ratio | |", "|---|---:|---:|---:|---|"]

    def row(label, scen, k, other_conts, lower, limit, kind):
        get = lambda c, key: summary.get((scen, c), {}).get(key)  # noqa: E731
        if scen not in scens:
            return
        mine = get("E", k)
        ov, oc = best_of(get, other_conts, k, lower=lower)
        r = ratio(mine, ov)
        if r is None:
            verdict = "n/a"
        else:
            verdict = "met" if (r <= limit if lower else r >= limit) else "missed"
        lines.append(f"| {label} | {fmt(mine, kind)} | {fmt(ov, kind)} ({NAMES.get(oc, 'n/a')}) | "
                     f"{fmt(r, 'ratio')} | {verdict} |")

    row("S1 CPU µs/req ≤ 0.8× haproxy http (lower of F, G)", "S1", "cpu", ("F", "G"), True, 0.8,
        "cpu")
    row("S1 req/s ≥ 1.2× haproxy http (higher of F, G)", "S1", "rps", ("F", "G"), False, 1.2, "rps")
    row("S1 p99 no worse than haproxy http (lower of F, G)", "S1", "p99", ("F", "G"), True, 1.0,
        "lat")
    row("S2 req/s ≥ 1.0× nginx", "S2", "rps", ("H",), False, 1.0, "rps")
    row("S3 MB/s ≥ 1.0× haproxy http + splice-response", "S3", "mbps", ("G",), False, 1.0, "mbps")
    row("S4 MB/s ≥ 1.0× haproxy http + splice-response", "S4", "mbps", ("G",), False, 1.0, "mbps")
    if "S5" in scens:
        kib = summary.get(("S5", "E"), {}).get("kib")
        verdict = "n/a" if kib is None else "met" if kib <= 1.0 else "missed"
        lines.append(f"| S5 ≤ 1 KiB per idle keep-alive client connection | {fmt(kib, 'kib')} KiB "
                     f"| 1.00 KiB (limit) | | {verdict} |")
    lines.append("")
    return lines


def fwd_ratios(summary, scens):
    """sluice forward proxy (I) against the better of squid (J) and tinyproxy (K), and direct."""
    lines = ["### fwd: ratios (medians)", "",
             "| scenario | metric | sluice / better of squid, tinyproxy | better is "
             "| sluice / squid | sluice / tinyproxy | sluice / direct "
             "| sluice CPU / squid CPU | sluice CPU / tinyproxy CPU | sluice p99 / better's p99 |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for scen in scens:
        get = lambda c, k: summary.get((scen, c), {}).get(k)  # noqa: E731
        k = "mbps" if scen in MBPS_SCENS else "rps"
        ov, oc = best_of(get, ("J", "K"), k)
        if oc is None and get("I", k) is None:
            continue
        p99 = ratio(get("I", "p99"), get(oc, "p99")) if oc else None
        lines.append(f"| {scen} | {'MB/s' if k == 'mbps' else 'req/s'} | "
                     f"{fmt(ratio(get('I', k), ov), 'ratio')} | {NAMES.get(oc, 'n/a')} | "
                     f"{fmt(ratio(get('I', k), get('J', k)), 'ratio')} | "
                     f"{fmt(ratio(get('I', k), get('K', k)), 'ratio')} | "
                     f"{fmt(ratio(get('I', k), get('A', k)), 'ratio')} | "
                     f"{fmt(ratio(get('I', 'cpu'), get('J', 'cpu')), 'ratio')} | "
                     f"{fmt(ratio(get('I', 'cpu'), get('K', 'cpu')), 'ratio')} | "
                     f"{fmt(p99, 'ratio')} |")
    lines.append("")
    return lines


def fwd_targets(summary, scens):
    """The benchmark targets of issue 4 against this run's medians."""
    lines = ["### fwd: targets of issue 4 (this run's medians)", "",
             "| target | sluice | other | ratio | |", "|---|---:|---:|---:|---|"]

    def row(label, scen, k, other_conts, limit, kind):
        get = lambda c, key: summary.get((scen, c), {}).get(key)  # noqa: E731
        if scen not in scens:
            return
        mine = get("I", k)
        ov, oc = best_of(get, other_conts, k)
        r = ratio(mine, ov)
        errs = summary.get((scen, "I"), {}).get("errors", 0)
        verdict = "n/a" if r is None else "met" if r >= limit else "missed"
        if errs and verdict == "met":
            verdict = f"met, but {errs} errors"
        lines.append(f"| {label} | {fmt(mine, kind)} | {fmt(ov, kind)} ({NAMES.get(oc, 'n/a')}) | "
                     f"{fmt(r, 'ratio')} | {verdict} |")

    row("F1 req/s ≥ 2× the better of squid and tinyproxy", "F1", "rps", ("J", "K"), 2.0, "rps")
    row("F2 tunnel MB/s ≥ 0.9× direct", "F2", "mbps", ("A",), 0.9, "mbps")
    lines.append("")
    return lines


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    runs = load(sys.argv[1])
    body = []
    for suite in [x for x in ("tcp", "http", "fwd") if any(k[0] == x for k in runs)]:
        sub = {(s, c): v for (su, s, c), v in runs.items() if su == suite}
        summary = summarize(sub)
        scens = sorted({s for s, _ in sub})
        conts = sorted({c for _, c in sub})
        body += [f"## {SUITE_TITLE[suite]}", ""]
        body += table(summary, suite, scens, conts)
        if suite == "tcp":
            body += ratios(summary, scens)
        elif suite == "fwd":
            body += fwd_ratios(summary, scens) + fwd_targets(summary, scens)
        else:
            body += http_ratios(summary, scens) + http_targets(summary, scens)
    text = "\n".join(body)
    print(text)
    meta = open(sys.argv[2]).read()
    with open(sys.argv[3], "w") as f:
        f.write(meta.rstrip("\n") + "\n\n" + text + "\n")


if __name__ == "__main__":
    main()
