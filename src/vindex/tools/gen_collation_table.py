#!/usr/bin/env python3
"""Generates ../collation_table.rs: primary weights for the unicode_loose_* collation key.

Input: a DUCET 6.3.0 file (allkeys-6.3.0.txt from the Unicode Consortium; one copy ships inside
the PyPI sdist of pyuca 1.2: `pip download --no-deps --no-binary :all: pyuca==1.2`).

Vitess builds the key with Go x/text's CLDR-23 root tables, which are not available here. The
spec's weights show that x/text's primaries for letters are DUCET 6.3's plus 4 (B, e, g, L, n,
o, s, T all agree), while variable (whitespace/punctuation/symbol) primaries sit 0x100 lower
(space 0x0209 -> 0x0109) with TAB at 0x0100. This script applies exactly that shift:
  non-variable w -> w + 4;  variable w -> w - 0x100;  TAB's 0x0201 -> 0x0100.
Only code points in RANGES that are stable under NFD are emitted (the Rust side applies NFD
first); multi-element entries (ß -> s s, ½ -> 1 ⁄ 2) become several rows with the same code point.
Code points whose elements all have primary 0 are emitted as IGNORABLE ranges.

Usage: gen_collation_table.py allkeys-6.3.0.txt > ../collation_table.rs
"""
import re
import sys
import unicodedata

RANGES = [
    (0x0000, 0x036F),  # Basic Latin .. combining diacritical marks
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x04FF),  # Cyrillic
    (0x1E00, 0x1EFF),  # Latin Extended Additional
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # Currency Symbols
]
CE = re.compile(r"\[([.*])([0-9A-F]{4,5})\.[0-9A-F]+\.[0-9A-F]+(?:\.[0-9A-F]+)?\]")


def load(path):
    table = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("@"):
            continue
        cps, ces = line.split(";", 1)
        cps = cps.split()
        if len(cps) == 1:
            table[int(cps[0], 16)] = [(m.group(1) == "*", int(m.group(2), 16)) for m in CE.finditer(ces)]
    return table


def shift(variable, w):
    if variable:
        return 0x0100 if w == 0x0201 else w - 0x100
    return w + 4


def main():
    table = load(sys.argv[1])
    rows, ignorable = [], []
    for lo, hi in RANGES:
        for cp in range(lo, hi + 1):
            if unicodedata.normalize("NFD", chr(cp)) != chr(cp) or cp not in table:
                continue
            weights = [shift(v, w) for v, w in table[cp] if w]
            if not weights:
                if ignorable and ignorable[-1][1] == cp - 1:
                    ignorable[-1][1] = cp
                else:
                    ignorable.append([cp, cp])
            rows.extend((cp, w) for w in weights)
    out = sys.stdout
    out.write("//! Primary collation weights for `unicode_loose_*` (generated; do not edit).\n//!\n")
    out.write("//! Made by `tools/gen_collation_table.py` from DUCET 6.3.0 (Unicode data) shifted to\n")
    out.write("//! x/text's numbering as the spec's sample weights show; see that script for the rules.\n\n")
    out.write("/// `(code point, primary weight)`, sorted; an expansion repeats its code point.\n")
    out.write("#[rustfmt::skip]\npub(super) static PRIMARIES: [(u32, u16); %d] = [\n" % len(rows))
    for i in range(0, len(rows), 8):
        out.write("    " + " ".join("(0x%04x,0x%04x)," % r for r in rows[i:i + 8]) + "\n")
    out.write("];\n\n/// Inclusive code point ranges whose collation elements all have primary weight 0.\n")
    out.write("#[rustfmt::skip]\npub(super) static IGNORABLE: [(u32, u32); %d] = [\n" % len(ignorable))
    for i in range(0, len(ignorable), 6):
        out.write("    " + " ".join("(0x%04x,0x%04x)," % tuple(r) for r in ignorable[i:i + 6]) + "\n")
    out.write("];\n")


if __name__ == "__main__":
    main()
