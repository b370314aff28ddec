#!/usr/bin/env python3
"""Collects the findings of clang-tidy and cppcheck (one "file:line:col: severity: message [check]" line
each), drops the ones listed in tests/static/suppressions.txt, prints the rest with the source line, and
exits 1 if any is left. Paths are reported relative to the repository; a finding in a header seen from
several translation units is counted once.

usage: filter.py ROOT BUILD_DIR SUPPRESSIONS TOOL=OUTPUT_FILE...
Relative paths in the reports are resolved against BUILD_DIR (clang-tidy prints the compile command's
file name, which meson makes relative to the build dir) and then against ROOT.
"""
import fnmatch
import os
import re
import sys

FINDING = re.compile(r'^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): '
                     r'(?P<sev>warning|error|style|performance|portability|information): '
                     r'(?P<msg>.*?) \[(?P<check>[^\]]+)\]$')


def load_suppressions(path):
    """Entries "tool:check path-glob needle"; the comment block above an entry is its reason."""
    entries, reason = [], []
    with open(path, encoding='utf-8') as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip('\n')
            if not line.strip():
                reason = []
                continue
            if line.lstrip().startswith('#'):
                reason.append(line.lstrip('# ').rstrip())
                continue
            parts = line.split(None, 2)
            if len(parts) != 3 or ':' not in parts[0]:
                sys.exit(f'{path}:{n}: expected "tool:check path-glob needle", got: {line}')
            if not reason:
                sys.exit(f'{path}:{n}: a suppression needs a comment above it saying why')
            tool, check = parts[0].split(':', 1)
            entries.append({'tool': tool, 'check': check, 'glob': parts[1], 'needle': parts[2],
                            'reason': ' '.join(reason), 'where': f'{os.path.basename(path)}:{n}',
                            'used': 0})
    return entries


def source_line(root, rel, n, cache={}):
    if rel not in cache:
        try:
            with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
                cache[rel] = f.read().split('\n')
        except OSError:
            cache[rel] = []
    lines = cache[rel]
    return lines[n - 1] if 0 < n <= len(lines) else ''


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    root = os.path.realpath(sys.argv[1])
    build = os.path.realpath(sys.argv[2])
    supp = load_suppressions(sys.argv[3])
    findings, seen = [], set()
    for arg in sys.argv[4:]:
        tool, path = arg.split('=', 1)
        with open(path, encoding='utf-8', errors='replace') as f:
            for raw in f:
                m = FINDING.match(raw.rstrip('\n'))
                if not m:
                    continue
                file = m['file']
                if not os.path.isabs(file):
                    cand = os.path.join(build, file)
                    file = cand if os.path.exists(cand) else os.path.join(root, file)
                file = os.path.realpath(file)
                rel = os.path.relpath(file, root) if file.startswith(root + os.sep) else file
                key = (tool, rel, m['line'], m['col'], m['check'], m['msg'])
                if key in seen:
                    continue
                seen.add(key)
                findings.append(dict(tool=tool, rel=rel, line=int(m['line']), col=m['col'], sev=m['sev'],
                                     msg=m['msg'], check=m['check']))
    left = []
    for f in findings:
        text = source_line(root, f['rel'], f['line'])
        for s in supp:
            if (s['tool'] == f['tool'] and s['check'] == f['check'] and fnmatch.fnmatch(f['rel'], s['glob'])
                    and (s['needle'] == '*' or s['needle'] in text)):
                s['used'] += 1
                break
        else:
            left.append((f, text))
    for f, text in left:
        print(f"{f['rel']}:{f['line']}:{f['col']}: {f['sev']}: {f['msg']} [{f['tool']}:{f['check']}]")
        if text.strip():
            print(f'    {text.strip()}')
    for s in supp:
        if s['used']:
            print(f"suppressed {s['used']} x {s['tool']}:{s['check']} in {s['glob']} ({s['where']})")
        else:
            print(f"note: suppression {s['where']} ({s['tool']}:{s['check']} {s['glob']}) matched nothing; "
                  "remove it if the code changed")
    print(f'{len(left)} finding(s) left, {len(findings) - len(left)} suppressed')
    return 1 if left else 0


if __name__ == '__main__':
    sys.exit(main())
