#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run every test of the repository and print one closing line.

Unit tests and fuzz corpus replays are TAP programs: each "ok" line counts
as a pass, each "not ok" as a failure, and a program that dies or exits
non-zero without saying why counts as one more failure. They run twice:
from the normal build and from an ASan+UBSan build. Integration and interop
tests are pytest suites, counted by case.

The last line is "N passed, N failed"; the exit code is 0 only with no failure.
"""

import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT_TESTS = sorted(f[:-2] for f in os.listdir(os.path.join(ROOT, 'tests', 'unit'))
                    if f.startswith('test-') and f.endswith('.c'))
FUZZ_TARGETS = sorted(f[:-2] for f in os.listdir(os.path.join(ROOT, 'tests', 'fuzz'))
                      if f.startswith('fuzz-') and f.endswith('.c') and f != 'fuzz-main.c')


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def add(self, suite, passed, failed, names):
        self.passed += passed
        self.failed += failed
        self.failures += ['%s: %s' % (suite, n) for n in names]


def run_tap(tally, suite, argv, env=None, timeout=600):
    try:
        p = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True, errors='replace')
        out, code = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, code = (e.stdout or b'').decode(errors='replace') if isinstance(e.stdout, bytes) else (e.stdout or ''), -1
        out += '\n# timed out after %ds' % timeout
    passed = failed = 0
    names = []
    for line in out.splitlines():
        if re.match(r'^ok \d+', line):
            passed += 1
        elif re.match(r'^not ok \d+', line):
            failed += 1
            names.append(line)
    if code != 0 and failed == 0:
        failed += 1
        names.append('%s exited with %d' % (os.path.basename(argv[0]), code))
    if failed:
        sys.stdout.write(''.join('    ' + l + '\n' for l in out.splitlines()[-40:]))
    print('%-40s %4d passed, %d failed' % (suite, passed, failed), flush=True)
    tally.add(suite, passed, failed, names)


def tap_suites(tally, build, label, env):
    for t in UNIT_TESTS:
        exe = os.path.join(build, 'tests', 'unit', t)
        run_tap(tally, '%s %s' % (label, t), [exe], env=env)
    for t in FUZZ_TARGETS:
        exe = os.path.join(build, 'tests', 'fuzz', t)
        run_tap(tally, '%s %s corpus' % (label, t), [exe, os.path.join(ROOT, 'tests', 'fuzz', 'corpus', t)],
                env=env)


def run_pytest(tally, build, paths):
    env = dict(os.environ, CPOD_BUILD_DIR=os.path.abspath(build), PYTHONDONTWRITEBYTECODE='1')
    xml = os.path.join(build, 'pytest-results.xml')
    args = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--junitxml', xml] + paths
    print('running pytest on %s' % ' '.join(os.path.relpath(p, ROOT) for p in paths), flush=True)
    p = subprocess.run(args, cwd=ROOT, env=env)
    passed = failed = 0
    names = []
    try:
        for case in ET.parse(xml).getroot().iter('testcase'):
            bad = case.find('failure') is not None or case.find('error') is not None
            if case.find('skipped') is not None:
                continue
            if bad:
                failed += 1
                names.append('%s::%s' % (case.get('classname'), case.get('name')))
            else:
                passed += 1
    except (OSError, ET.ParseError):
        pass
    if p.returncode not in (0, 5) and failed == 0:
        failed += 1
        names.append('pytest exited with %d' % p.returncode)
    print('%-40s %4d passed, %d failed' % ('pytest', passed, failed), flush=True)
    tally.add('pytest', passed, failed, names)


def asan_build(build):
    if not os.path.exists(os.path.join(build, 'build.ninja')):
        subprocess.run(['meson', 'setup', build, '-Db_sanitize=address,undefined', '-Db_lundef=false',
                        '-Dvalidate_replies=true', '--buildtype=debug'], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    # everything: the container tests need the cpod binary and the test images too
    subprocess.run(['ninja', '-C', build], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default='build')
    ap.add_argument('--asan-build', default='build-asan')
    ap.add_argument('--no-asan', action='store_true')
    ap.add_argument('--no-pytest', action='store_true')
    args = ap.parse_args()
    tally = Tally()

    tap_suites(tally, args.build, 'unit', None)
    run_tap(tally, 'unit test-symbols',
            [os.path.join(ROOT, 'tests', 'unit', 'test-symbols.sh'), os.path.join(args.build, 'src', 'libvl',
             'libvl.so'), os.path.join(ROOT, 'include', 'vl')])

    if not args.no_asan:
        env = dict(os.environ, ASAN_OPTIONS='detect_leaks=1:abort_on_error=1',
                   UBSAN_OPTIONS='halt_on_error=1:print_stacktrace=1')
        try:
            asan_build(args.asan_build)
            tap_suites(tally, args.asan_build, 'asan', env)
        except subprocess.CalledProcessError as e:
            tally.add('asan build', 0, 1, ['build failed: %s' % e])
            print('asan build failed', flush=True)

    if not args.no_pytest:
        paths = [os.path.join(ROOT, 'tests', d) for d in ('integration', 'interop')
                 if os.path.isdir(os.path.join(ROOT, 'tests', d))]
        if paths:
            run_pytest(tally, args.build, paths)

    if tally.failures:
        print('\nfailures:')
        for f in tally.failures:
            print('  ' + f)
    print('%d passed, %d failed' % (tally.passed, tally.failed))
    return 0 if tally.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
