#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turn a text file into a C header holding it as a string constant.

usage: embed-text.py INPUT OUTPUT SYMBOL
"""
import sys


def main():
    src, dst, symbol = sys.argv[1:4]
    with open(src, 'rb') as f:
        data = f.read()
    lines = []
    for line in data.decode('utf-8').splitlines(keepends=True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
        lines.append('        "%s"' % esc)
    with open(dst, 'w') as f:
        f.write('/* generated from %s */\n#pragma once\n\n' % src.rsplit('/', 1)[-1])
        f.write('static const char %s[] =\n%s;\n' % (symbol, '\n'.join(lines) or '""'))


if __name__ == '__main__':
    main()
