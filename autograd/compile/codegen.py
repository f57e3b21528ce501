"""Code generation: values of a step, instructions over them, buffers shared by lifetime,
and the Python source (with its closure constants) a plan compiles into one function.
"""
import itertools
import re

import numpy as np


# ---------------------------------------------------------------- values and instructions
class _Value:
    """An array of the step: an input, a bound array, a constant, a buffer or a local."""

    __slots__ = ("kind", "ref", "name", "fold", "tensor", "index", "last", "sources",
                 "buffer", "fixed", "born", "summed", "view", "derive", "label_index")

    def __init__(self, kind, ref, **fields):
        self.kind = kind  # "input", "bound", "const", "buffer", "local"
        self.ref = ref  # its value in the recorded step (shape, dtype, and the check)
        self.name = None
        self.fold = kind == "const"  # constants that no step changes fold into constants
        self.tensor = None  # for "bound": the Tensor whose .data it is
        self.index = None  # for "input": the position of the argument
        self.last = -1  # the last instruction that reads it
        self.sources = ()  # for "local": values it may share memory with
        self.buffer = None  # for "buffer": the array it lives in (chosen after planning)
        self.fixed = None  # a buffer it must live in (a parameter's .grad)
        self.born = -1  # the instruction that writes it
        self.summed = False  # a buffer holding a running sum of gradients
        self.view = None  # for a "local" that is a view of a buffer (made once): that buffer
        self.derive = _transpose  # ... and how the view is made from it
        self.label_index = None  # for class labels: (k, the flat index their guard fills)
        for k, v in fields.items():
            setattr(self, k, v)


class _Builder:
    """Collects instructions (lines of Python over values) and plans their buffers."""

    def __init__(self):
        self.instrs = []  # each: (lines, defined values); a line is (format, args)
        self.names = {}  # id(literal) -> (name, literal) for constants in the code
        self.counter = itertools.count()

    def begin(self):
        self.instrs.append(([], []))

    def define(self, kind, ref, **fields):
        v = _Value(kind, ref, **fields)
        if kind in ("buffer", "local"):
            self.instrs[-1][1].append(v)
            v.born = len(self.instrs) - 1
        return v

    def buffer(self, ref):
        """A new value of ref's shape and dtype, written by the current instruction."""
        return self.define("buffer", ref)

    def code(self, fmt, *args):
        """One line; `{0}`, `{1}` ... name the args: values, or any Python object."""
        self.instrs[-1][0].append((fmt, args))
        n = len(self.instrs) - 1
        for a in args:
            if isinstance(a, _Value):
                a.last = max(a.last, n)

    def call(self, result, func, *args, **kwargs):
        """`result = func(*args, **kwargs)` (result None: no assignment)."""
        parts = [f"{{{i + 1}}}" for i in range(len(args))]
        parts += [f"{k}={{{len(args) + 1 + i}}}" for i, k in enumerate(kwargs)]
        target = "" if result is None else f"{{{len(args) + len(kwargs) + 1}}} = "
        extra = () if result is None else (result,)
        self.code(target + "{0}(" + ", ".join(parts) + ")", func, *args, *kwargs.values(),
                  *extra)

    # ------------------------------------------------------------ buffers and code
    def allocate(self):
        """Give every buffer value an array; values whose lifetimes do not overlap share one."""
        end = {}  # id(buffer value) -> last instruction reading it or anything sharing it
        for _, defined in self.instrs:
            for v in defined:
                end[id(v)] = v.last
        for _, defined in self.instrs:
            for v in defined:
                if v.kind == "local":
                    for root in _roots(v):
                        end[id(root)] = max(end[id(root)], v.last)
        for _, defined in self.instrs:  # planning is over: a value's recorded array can go
            for v in defined:  # (before the buffers exist: the first call peaks lower)
                v.ref = _stand_in(v.ref)
        free = {}  # (shape, dtype) -> arrays free again
        releases = {}  # instruction -> buffers free after it
        for n, (_, defined) in enumerate(self.instrs):
            for v in defined:
                if v.kind != "buffer":
                    continue
                if v.fixed is not None:
                    v.buffer = v.fixed
                    continue
                key = (v.ref.shape, v.ref.dtype.str)
                pool = free.get(key)
                v.buffer = pool.pop() if pool else _Slot(v.ref.shape, v.ref.dtype)
                releases.setdefault(max(end[id(v)], n), []).append((key, v.buffer))
            for key, array in releases.pop(n, ()):
                free.setdefault(key, []).append(array)

    def source(self):
        """The lines of the generated function, its closure constants, and the namer."""
        consts = {}
        lines = []

        def name(a):
            if isinstance(a, _Value):
                if a.kind == "input":
                    return f"a{a.index}"
                if a.kind == "local":
                    if a.name is None:  # a buffer's transpose is made once, like the buffer
                        a.name = (constant(_Derived(a.derive, a.view.buffer))
                                  if a.view is not None else f"v{next(self.counter)}")
                    return a.name
                array = a.buffer if a.kind == "buffer" else a.ref
                return constant(array)
            return constant(a)

        def constant(obj):
            entry = self.names.get(id(obj))
            if entry is None:
                entry = self.names[id(obj)] = (f"k{len(self.names)}", obj)
                consts[entry[0]] = obj
            return entry[0]

        for instr_lines, _ in self.instrs:
            for fmt, args in instr_lines:
                lines.append(fmt.format(*(name(a) for a in args)))
        return lines, consts, name


class _Slot:
    """A buffer before its array exists: `_function` makes the array after compiling the code
    that uses it, so a first call never holds compile()'s memory and the buffers at once."""

    __slots__ = ("shape", "dtype", "array")

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.array = shape, dtype, None


class _Derived:
    """A view of a buffer made once, when the buffer is: `func(array)`."""

    __slots__ = ("func", "of")

    def __init__(self, func, of):
        self.func, self.of = func, of


def _made(obj):
    """A constant as the generated code sees it: a _Slot's array (made at its first use)."""
    kind = type(obj)
    if kind is _Slot:
        if obj.array is None:
            obj.array = np.empty(obj.shape, obj.dtype)
        return obj.array
    if kind is _Derived:
        return obj.func(_made(obj.of))
    return obj


def _transpose(array):
    return array.mT


def _stand_in(ref):
    """An array with ref's shape and dtype that holds one element (read-only, all strides 0)."""
    if not isinstance(ref, np.ndarray) or ref.size <= 1:
        return ref
    return np.broadcast_to(np.zeros((), ref.dtype), ref.shape)


def _roots(v, seen=None):
    """The buffer values a local may share memory with."""
    out = []
    for s in v.sources:
        if s.kind == "buffer":
            out.append(s)
        elif s.kind == "local":
            out += _roots(s)
    return out


def _literal(obj):
    """True for Python numbers, strings, None and dtypes, and lists and tuples of them."""
    if isinstance(obj, (list, tuple)):
        return all(map(_literal, obj))
    return (type(obj) in (int, float, bool, complex, str, type(None))
            or isinstance(obj, (np.dtype, type)))


def _attr_values(attrs):
    """The values among op attributes (masks the replay computes)."""
    return [v for v in attrs.values() if isinstance(v, _Value)]


def _nth(iterable, i):
    """Item i of an op's vjps (any iterable zipped with the inputs, never indexed)."""
    item = None
    for _, item in zip(range(i + 1), iterable):  # noqa: B007 - the last one is item i
        pass
    return item


def _typed(number, like):
    """A Python number as a 0-d array of like's dtype, when that holds it exactly.

    numpy converts a Python number operand to the array's dtype at every call (NEP 50); done
    once here, the call skips that cast and computes the same bits.
    """
    dtype = like.dtype if isinstance(like, np.ndarray) else like.ref.dtype
    typed = np.array(number, dtype)
    return typed if typed == number else number


def _contiguous(*values):
    return all(v.ref.flags.c_contiguous for v in values)


def _same_dtype(*values):
    return len({v.ref.dtype for v in values}) == 1



def _function(name, args, lines, consts):
    """Compile `def name(args): lines` with `consts` as closure variables (fast to read).

    Buffers among `consts` (a _Slot, a _Derived) get their arrays after compile(), the first
    call's largest allocation on a small network."""
    source = [f"def _make({', '.join(consts)}):", f"    def {name}({args}):"]
    source += ["        " + line for line in lines] or ["        pass"]
    source.append(f"    return {name}")
    namespace = {}
    exec(compile("\n".join(source), f"<compiled {name}>", "exec"), namespace)  # noqa: S102
    return namespace["_make"](**{k: _made(v) for k, v in consts.items()})


# compile() of a replay's source costs about 0.4 kB per token, and more than linearly: a
# 34-line replay, compiled whole, was a small network's first call's largest allocation
# (0.2 MB, three times moons' whole eager step). Compiled in pieces of at most PIECE_LINES lines,
# each a function the replay calls, it peaks at one piece's share, for a call per piece.
PIECE_LINES = 12
_LOCAL = re.compile(r"\b(?:v\d+|loss_|outs_)\b")  # the generated code's local names
_CONST = re.compile(r"\bk\d+\b")


def _function_in_pieces(name, args, head, body, tail, consts):
    """`_function(name, args, head + body + tail, consts)`, its straight-line `body` compiled
    in pieces: each takes the locals it reads from the pieces before and returns the ones that
    those after it (or `tail`) read."""
    if len(body) <= PIECE_LINES or any(line[:1].isspace() or line.endswith(":")
                                        for line in body):
        return _function(name, args, head + body + tail, consts)
    pieces = [body[i:i + PIECE_LINES] for i in range(0, len(body), PIECE_LINES)]
    reads = [set(_LOCAL.findall("\n".join(piece))) for piece in pieces]
    lines, known, calls = list(head), set(), {}
    for i, piece in enumerate(pieces):
        later = set(_LOCAL.findall("\n".join(tail))).union(*reads[i + 1:])
        given, made = sorted(reads[i] & known), sorted((reads[i] - known) & later)
        own = {k: consts[k] for k in set(_CONST.findall("\n".join(piece))) if k in consts}
        params = ", ".join(filter(None, [args, *given]))
        calls[f"piece{i}_"] = _function(f"{name}_{i}", params,
                                        piece + [f"return ({', '.join(made)}{',' * bool(made)})"],
                                        own)
        lines.append(f"{', '.join(made)}, = piece{i}_({params})" if made
                     else f"piece{i}_({params})")
        known.update(made)
    outer = "\n".join(head + tail)
    own = {k: consts[k] for k in set(_CONST.findall(outer)) if k in consts}
    return _function(name, args, lines + tail, dict(own, **calls))


def _accumulate(t, g):
    """A leaf outside `params` adds up its gradients across steps, as backward does."""
    t.grad = np.array(g) if t.grad is None else t.grad + g


def _same_bits(a, b):
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.size and a.flags.c_contiguous and b.flags.c_contiguous and not a.dtype.hasobject:
        # Compared where they lie: tobytes() would copy both, which for a compiled step's
        # gradients and parameters raised its first call's peak by two of the largest arrays.
        return memoryview(a.reshape(-1).view(np.uint8)) == memoryview(b.reshape(-1).view(np.uint8))
    return a.tobytes() == b.tobytes()
