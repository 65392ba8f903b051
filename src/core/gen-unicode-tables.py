#!/usr/bin/env python3
"""Generate bs-unicode-data.{h,c}: the Unicode properties the WordPiece
tokenizer needs, exactly as google-research/bert's tokenization.py sees them
on Python 3.11 (unicodedata = Unicode 14.0, the version the goldens were made
with).  GLib's own tables are a newer Unicode version, hence these.

Usage: python3 gen-unicode-tables.py OUTDIR   (writes into OUTDIR; the
generated files are committed, rerun only when the reference changes).

Per code point: a class (flags + canonical combining class) in one 3-level
table of bytes, and for lower-casing mode the index of NFD(c.lower()) in
another (0 = unchanged).  Hangul syllables decompose algorithmically and
U+03A3 (final sigma) is context-dependent: both are handled in C.
"""
import os
import sys
import unicodedata as ud

if ud.unidata_version != "14.0.0":
    sys.exit(f"need Unicode 14.0.0 (Python 3.11), this python has {ud.unidata_version}")

N = 0x110000
SIGMA = 0x3A3
HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3

FLAGS = [  # name, bit: keep in sync with the C code that reads them
    ("DROP", 0x001),         # removed by _clean_text: U+0000, U+FFFD, Cc, Cf but \t \n \r
    ("SPACE", 0x002),        # a word boundary: _is_whitespace, or str.split() whitespace left after cleanup
    ("CJK", 0x004),          # _is_chinese_char: becomes a word of its own
    ("PUNCT", 0x008),        # _is_punctuation: becomes a word of its own
    ("MN", 0x010),           # category Mn: dropped after NFD in lower-casing mode
    ("CASED", 0x020),        # Cased and not Case_Ignorable (final-sigma context)
    ("CASE_IGNORABLE", 0x040),  # Case_Ignorable (skipped by the final-sigma context)
    ("PY_SPACE", 0x080),     # str.isspace(): what str.strip() removes from vocab lines
    ("HAS_LOWER", 0x100),    # c.lower() != c (a vocab with such tokens is cased)
]
F = dict(FLAGS)


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def is_punct(cp):
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return ud.category(chr(cp)).startswith("P")


def sigma_context(ch):
    """Python exposes neither Cased nor Case_Ignorable: probe str.lower()'s
    final-sigma rule, which is what the reference depends on.
    p2: 'A' ch 'Σ' ends in ς  <=> ignorable(ch) or cased(ch)
    p3: 'AΣ' ch has ς         <=> ignorable(ch) or not cased(ch)"""
    p2 = ("A" + ch + "\u03a3").lower()[-1] == "\u03c2"
    p3 = ("A\u03a3" + ch).lower()[1] == "\u03c2"
    return p2 and not p3, p2 and p3


def flags_of(cp):
    ch = chr(cp)
    cat = ud.category(ch)
    f = 0
    if cp == 0 or cp == 0xFFFD or (cat in ("Cc", "Cf") and ch not in "\t\n\r"):
        f |= F["DROP"]
    elif ch in " \t\n\r" or cat == "Zs" or ch.isspace():
        f |= F["SPACE"]
    if is_cjk(cp):
        f |= F["CJK"]
    if is_punct(cp):
        f |= F["PUNCT"]
    if cat == "Mn":
        f |= F["MN"]
    if not 0xD800 <= cp <= 0xDFFF:
        cased, ignorable = sigma_context(ch)
        if cased:
            f |= F["CASED"]
        if ignorable:
            f |= F["CASE_IGNORABLE"]
        if ch.lower() != ch:
            f |= F["HAS_LOWER"]
    if ch.isspace():
        f |= F["PY_SPACE"]
    return f


def expansion(cp):
    if 0xD800 <= cp <= 0xDFFF or HANGUL_FIRST <= cp <= HANGUL_LAST or cp == SIGMA:
        return None
    ch = chr(cp)
    s = ud.normalize("NFD", ch.lower())
    return None if s == ch else s


def three_level(values, b2, b3):
    blocks3, idx2 = {}, []
    for i in range(0, len(values), 1 << b3):
        idx2.append(blocks3.setdefault(tuple(values[i:i + (1 << b3)]), len(blocks3)))
    blocks2, idx1 = {}, []
    for i in range(0, len(idx2), 1 << b2):
        idx1.append(blocks2.setdefault(tuple(idx2[i:i + (1 << b2)]), len(blocks2)))
    return idx1, list(blocks2), list(blocks3)


def ctype(maxval):
    return "guint8" if maxval < 256 else "guint16"


def best_split(values, width):
    best = None
    for b2 in range(3, 9):
        for b3 in range(3, 9):
            i1, l2, l3 = three_level(values, b2, b3)
            size = (len(l3) << b3) * width + (len(l2) << b2) * (1 if len(l3) <= 256 else 2) \
                + len(i1) * (1 if len(l2) <= 256 else 2)
            if best is None or size < best[0]:
                best = (size, b2, b3)
    return best


def emit_array(out, ctype_, name, items, per_line=16):
    out.append(f"const {ctype_} {name}[{len(items)}] = {{")
    for i in range(0, len(items), per_line):
        out.append("  " + ", ".join(str(x) for x in items[i:i + per_line]) + ",")
    out.append("};\n")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

    classes, class_of = {}, []
    exps, exp_of = {None: 0}, []
    for cp in range(N):
        f = flags_of(cp)
        ccc = ud.combining(chr(cp))
        # Only non-Mn marks survive NFD + Mn removal, so only their exact
        # combining class matters (canonical reordering); for Mn, "nonzero" does.
        if f & F["MN"] and ccc:
            ccc = 1
        class_of.append(classes.setdefault((f, ccc), len(classes)))
        exp_of.append(exps.setdefault(expansion(cp), len(exps)))

    # The C code relies on these.
    for cp in range(N):
        f, ccc = list(classes)[class_of[cp]]
        assert not (f & F["PUNCT"] and ccc), hex(cp)
        e = expansion(cp)
        if e is not None and not f & (F["SPACE"] | F["DROP"]):
            for x in e:
                xf = flags_of(ord(x))
                assert not xf & F["PY_SPACE"], hex(cp)       # no second whitespace split
                assert not xf & F["CJK"] or f & F["CJK"], hex(cp)
        if f & F["CJK"]:
            assert not f & (F["PUNCT"] | F["SPACE"] | F["CASED"] | F["CASE_IGNORABLE"]), hex(cp)
    for cp in range(128):
        assert expansion(cp) in (None, chr(cp).lower())
    assert len(classes) <= 256 and len(exps) < 65536
    assert flags_of(SIGMA) & F["CASED"]

    class_list = list(classes)
    exp_list = list(exps)
    pool, offsets = bytearray(), [0]
    for e in exp_list[1:]:
        pool += e.encode("utf-8")
        offsets.append(len(pool))
    assert len(pool) < 65536

    _, cb2, cb3 = best_split(class_of, 1)
    _, eb2, eb3 = best_split(exp_of, 2)
    c1, c2, c3 = three_level(class_of, cb2, cb3)
    e1, e2, e3 = three_level(exp_of, eb2, eb3)

    h = []
    h.append("/* bs-unicode-data.h: generated by gen-unicode-tables.py from Python "
             f"{sys.version_info.major}.{sys.version_info.minor}'s unicodedata (Unicode {ud.unidata_version}). Do not edit. */")
    h.append("#pragma once\n\n#include <glib.h>\n\nG_BEGIN_DECLS\n")
    h.append(f"#define BS_UNICODE_VERSION \"{ud.unidata_version}\"\n")
    h.append("enum\n{")
    for name, bit in FLAGS:
        h.append(f"  BS_UC_{name} = 0x{bit:03x},")
    h.append("};\n")
    h.append("typedef struct\n{\n  guint16 flags;\n  guint8 ccc; /* canonical combining class; 1 for any nonzero Mn */\n} BsUnicodeClass;\n")
    h.append(f"extern const BsUnicodeClass bs_unicode_classes[{len(class_list)}];")
    h.append(f"extern const guint8 bs_unicode_ascii_class[128];")
    h.append(f"extern const {ctype(len(c2) - 1)} bs_unicode_class_l1[{len(c1)}];")
    h.append(f"extern const {ctype(len(c3) - 1)} bs_unicode_class_l2[{len(c2) << cb2}];")
    h.append(f"extern const {ctype(len(class_list) - 1)} bs_unicode_class_l3[{len(c3) << cb3}];")
    h.append(f"extern const {ctype(len(e2) - 1)} bs_unicode_lower_l1[{len(e1)}];")
    h.append(f"extern const {ctype(len(e3) - 1)} bs_unicode_lower_l2[{len(e2) << eb2}];")
    h.append(f"extern const guint16 bs_unicode_lower_l3[{len(e3) << eb3}];")
    h.append(f"extern const guint16 bs_unicode_lower_offsets[{len(offsets)}];")
    h.append(f"extern const guint8 bs_unicode_lower_pool[{len(pool)}];\n")
    h.append("/* The class of code point cp (< 0x110000). */")
    h.append("static inline const BsUnicodeClass *\nbs_unicode_class (gunichar cp)\n{")
    h.append(f"  guint i2 = bs_unicode_class_l1[cp >> {cb2 + cb3}];")
    h.append(f"  guint i3 = bs_unicode_class_l2[(i2 << {cb2}) | ((cp >> {cb3}) & {(1 << cb2) - 1})];")
    h.append(f"  return &bs_unicode_classes[bs_unicode_class_l3[(i3 << {cb3}) | (cp & {(1 << cb3) - 1})]];")
    h.append("}\n")
    h.append("/* NFD (cp.lower ()) as UTF-8 in bs_unicode_lower_pool[offsets[i-1], offsets[i]),\n"
             " * or 0 when cp maps to itself (or is U+03A3 or a Hangul syllable). */")
    h.append("static inline guint\nbs_unicode_lower_index (gunichar cp)\n{")
    h.append(f"  guint i2 = bs_unicode_lower_l1[cp >> {eb2 + eb3}];")
    h.append(f"  guint i3 = bs_unicode_lower_l2[(i2 << {eb2}) | ((cp >> {eb3}) & {(1 << eb2) - 1})];")
    h.append(f"  return bs_unicode_lower_l3[(i3 << {eb3}) | (cp & {(1 << eb3) - 1})];")
    h.append("}\n")
    h.append("G_END_DECLS")

    c = []
    c.append("/* bs-unicode-data.c: generated by gen-unicode-tables.py from Python "
             f"{sys.version_info.major}.{sys.version_info.minor}'s unicodedata (Unicode {ud.unidata_version}). Do not edit. */")
    c.append('#include "bs-unicode-data.h"\n')
    c.append(f"const BsUnicodeClass bs_unicode_classes[{len(class_list)}] = {{")
    for f, ccc in class_list:
        c.append(f"  {{ 0x{f:03x}, {ccc} }},")
    c.append("};\n")
    emit_array(c, "guint8", "bs_unicode_ascii_class", class_of[:128])
    emit_array(c, ctype(len(c2) - 1), "bs_unicode_class_l1", c1)
    emit_array(c, ctype(len(c3) - 1), "bs_unicode_class_l2", [x for b in c2 for x in b])
    emit_array(c, ctype(len(class_list) - 1), "bs_unicode_class_l3", [x for b in c3 for x in b])
    emit_array(c, ctype(len(e2) - 1), "bs_unicode_lower_l1", e1)
    emit_array(c, ctype(len(e3) - 1), "bs_unicode_lower_l2", [x for b in e2 for x in b])
    emit_array(c, "guint16", "bs_unicode_lower_l3", [x for b in e3 for x in b])
    emit_array(c, "guint16", "bs_unicode_lower_offsets", offsets)
    emit_array(c, "guint8", "bs_unicode_lower_pool", list(pool), per_line=24)

    with open(os.path.join(outdir, "bs-unicode-data.h"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(h) + "\n")
    with open(os.path.join(outdir, "bs-unicode-data.c"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(c))
    size = (len(c1) * (1 if len(c2) <= 256 else 2) + (len(c2) << cb2) * (1 if len(c3) <= 256 else 2)
            + (len(c3) << cb3) + (len(e1) * (1 if len(e2) <= 256 else 2))
            + (len(e2) << eb2) * (1 if len(e3) <= 256 else 2) + (len(e3) << eb3) * 2
            + len(offsets) * 2 + len(pool) + len(class_list) * 4)
    print(f"{len(class_list)} classes, {len(exp_list) - 1} lower/NFD expansions, {size} bytes of tables",
          file=sys.stderr)


if __name__ == "__main__":
    main()
