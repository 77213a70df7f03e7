"""A strict parser of the Prometheus text exposition format 0.0.4, for the admin tests.

parse(text) returns {family name: Family} and raises ValueError on anything the format does
not allow or a well-behaved exporter should not do: a sample before its family's # TYPE,
a family declared twice or split in two, a bad metric or label name, a bad escape in a
label value, a value that is not a float, a duplicate series, a counter not named *_total,
a histogram whose buckets are not cumulative, do not end with le="+Inf", or disagree with
_count, a missing final newline.
"""

import math
import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Family:
    def __init__(self, name, type_, help_):
        self.name, self.type, self.help = name, type_, help_
        self.samples = []  # (sample name, labels dict, value)

    def value(self, **labels):
        """The value of the one sample of this family (not _bucket/_sum/_count) with
        exactly these labels; KeyError if absent."""
        for n, l, v in self.samples:
            if n == self.name and l == labels:
                return v
        raise KeyError("%s%r" % (self.name, labels))

    def series(self, suffix=""):
        return [(l, v) for n, l, v in self.samples if n == self.name + suffix]


def _parse_value(s, where):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise ValueError("%s: bad value %r" % (where, s))
    return float(s)


def _parse_labels(s, i, where):
    """s[i] == '{'; returns (labels, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ValueError("%s: bad label name at %r" % (where, s[i:]))
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError("%s: expected =\" after label %s" % (where, name))
        i += 2
        val = []
        while True:
            c = s[i]
            if c == "\\":
                nxt = s[i + 1]
                if nxt not in '\\"n':
                    raise ValueError("%s: bad escape \\%s" % (where, nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("%s: newline in a label value" % where)
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise ValueError("%s: label %s twice" % (where, name))
        labels[name] = "".join(val)
        if s[i] == ",":
            i += 1
        elif s[i] != "}":
            raise ValueError("%s: expected , or } at %r" % (where, s[i:]))


def _family_of(sample, families):
    for suffix in ("_bucket", "_sum", "_count"):
        if sample.endswith(suffix) and sample[:-len(suffix)] in families:
            f = families[sample[:-len(suffix)]]
            if f.type in ("histogram", "summary"):
                return f
    return families.get(sample)


def parse(text):
    if not text.endswith("\n"):
        raise ValueError("the exposition must end with a newline")
    families = {}
    current = None
    closed = set()
    seen = set()
    pending_help = {}
    for no, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d" % no
        if not line:
            raise ValueError("%s: empty line" % where)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.fullmatch(name):
                    raise ValueError("%s: bad metric name %r" % (where, name))
                if parts[1] == "HELP":
                    if name in families or name in pending_help:
                        raise ValueError("%s: HELP for %s twice or after TYPE" % (where, name))
                    pending_help[name] = parts[3] if len(parts) > 3 else ""
                    continue
                if len(parts) != 4 or parts[3] not in TYPES:
                    raise ValueError("%s: bad TYPE line" % where)
                if name in families:
                    raise ValueError("%s: TYPE for %s twice" % (where, name))
                if current is not None:
                    closed.add(current.name)
                current = families[name] = Family(name, parts[3], pending_help.pop(name, None))
                if current.help is None:
                    raise ValueError("%s: %s has no HELP" % (where, name))
                if current.type == "counter" and not name.endswith("_total"):
                    raise ValueError("%s: counter %s is not named *_total" % (where, name))
            continue
        m = NAME.match(line)
        if not m:
            raise ValueError("%s: bad sample %r" % (where, line))
        sample = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line + "\n", i, where)
        if line[i:i + 1] != " ":
            raise ValueError("%s: expected a space before the value" % where)
        rest = line[i + 1:].split(" ")
        if len(rest) not in (1, 2):
            raise ValueError("%s: trailing garbage" % where)
        value = _parse_value(rest[0], where)
        fam = _family_of(sample, families)
        if fam is None:
            raise ValueError("%s: sample %s before its # TYPE" % (where, sample))
        if fam is not current or fam.name in closed:
            raise ValueError("%s: family %s is split" % (where, fam.name))
        key = (sample, tuple(sorted(labels.items())))
        if key in seen:
            raise ValueError("%s: duplicate series %s%r" % (where, sample, labels))
        seen.add(key)
        if fam.type == "counter" and (value < 0 or math.isnan(value)):
            raise ValueError("%s: negative counter" % where)
        fam.samples.append((sample, labels, value))
    if pending_help:
        raise ValueError("HELP without TYPE: %s" % sorted(pending_help))
    for fam in families.values():
        if not fam.samples:
            raise ValueError("family %s has no samples" % fam.name)
        if fam.type == "histogram":
            _check_histogram(fam)
    return families


def _check_histogram(fam):
    groups = {}
    for n, l, v in fam.samples:
        base = tuple(sorted((k, x) for k, x in l.items() if k != "le"))
        g = groups.setdefault(base, {"buckets": [], "sum": None, "count": None})
        if n == fam.name + "_bucket":
            if "le" not in l:
                raise ValueError("%s: bucket without le" % fam.name)
            g["buckets"].append((_parse_value(l["le"], fam.name), v))
        elif n == fam.name + "_sum":
            g["sum"] = v
        elif n == fam.name + "_count":
            g["count"] = v
        else:
            raise ValueError("%s: unexpected sample %s" % (fam.name, n))
    for base, g in groups.items():
        b = g["buckets"]
        if not b or b[-1][0] != math.inf:
            raise ValueError("%s: buckets must end with le=\"+Inf\"" % fam.name)
        for (le0, c0), (le1, c1) in zip(b, b[1:]):
            if le1 <= le0 or c1 < c0:
                raise ValueError("%s: buckets not increasing and cumulative" % fam.name)
        if g["count"] is None or g["sum"] is None:
            raise ValueError("%s: _sum or _count missing" % fam.name)
        if g["count"] != b[-1][1]:
            raise ValueError("%s: _count != +Inf bucket" % fam.name)
