#!/usr/bin/env python3
"""Checks what a GigaHttpd core can run: everything reachable in gigahttpd.o from the
core's entry, `gh_core_main`.

A core runs on a CPU Linux no longer runs, with its own per-CPU base, so it must never
enter Linux: not its panic path (Rust's panic handler calls printk and BUG), and no
Linux function but the few leaves it is allowed (`memcpy` and its kin, the compiler's
thunks). Rust functions the kernel image holds (the `core` library, shared generic
instances) are followed into the kernel image: a core may run them only if they reach
nothing forbidden either, overflow checks included.

Reachability is conservative: a function reaches every function its code names (calls,
jumps, and addresses taken, such as a closure's vtable, found through the object's
relocations), and a reference into a data section reaches the relocations from that
address up to the next address anything refers to (a vtable's function pointers).
Usage: tools/check-no-panic.py gigahttpd.o vmlinux   (exit 1, with a path, on a violation)
"""
import bisect
import re
import subprocess
import sys

ENTRY = "gh_core_main"
# Linux symbols a core may use: leaf copies, compiler thunks, and read-only data.
ALLOWED_LINUX = re.compile(
    r"^(_*memcpy|_*memmove|_*memset|memcmp|bcmp"
    r"|__x86_return_thunk|__x86_indirect_thunk_\w+|__x86_indirect_call_thunk_\w+"
    r"|__fentry__|page_offset_base)$"
)
# Rust symbols (v0 mangling): followed into the kernel image.
RUST = re.compile(r"^_R")
PANIC = re.compile(r"panicking|_fail|panic_bounds_check|rust_begin_unwind")


def objdump(*args):
    return subprocess.run(["objdump", *args], check=True, capture_output=True, text=True).stdout


def split_target(value, kind):
    """(symbol or section, offset into it) of a relocation's value."""
    m = re.match(r"^(.+?)(?:([+-])0x([0-9a-f]+))?$", value.strip())
    name, sign, num = m.group(1), m.group(2), m.group(3)
    addend = int(num, 16) * (-1 if sign == "-" else 1) if num else 0
    # A PC-relative field is read 4 bytes before the next instruction starts.
    if kind in ("R_X86_64_PC32", "R_X86_64_PLT32"):
        addend += 4
    return name, addend


class KernelImage:
    """The Rust functions of the kernel image, disassembled on demand."""

    def __init__(self, path):
        self.path = path
        self.symbols = {}  # name -> (address, size)
        for line in subprocess.run(["nm", "-S", path], check=True, capture_output=True,
                                   text=True).stdout.splitlines():
            f = line.split()
            if len(f) == 4 and f[2] in "Tt":
                self.symbols[f[3]] = (int(f[0], 16), int(f[1], 16))

    def calls(self, name):
        """The functions `name` calls or jumps to; None if the image has no such code."""
        if name not in self.symbols:
            return None
        start, size = self.symbols[name]
        out = objdump("-d", "--no-show-raw-insn", f"--start-address={start:#x}",
                      f"--stop-address={start + size:#x}", self.path)
        found = set()
        for target in re.findall(r"(?:call|jmp)\s+[0-9a-f]+ <([^>+]+)(?:\+0x[0-9a-f]+)?>", out):
            if self.symbols.get(target, (None,))[0] != start:
                found.add(target)
        return found


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tools/check-no-panic.py OBJECT VMLINUX")
    obj = sys.argv[1]
    image = KernelImage(sys.argv[2])

    # Functions: name and start address in their section, and what their code names.
    starts = {}  # section -> sorted [(address, function)]
    refs = {}  # function -> [(name, offset)]
    section, func = None, None
    for line in objdump("-dr", "--no-show-raw-insn", obj).splitlines():
        m = re.match(r"^Disassembly of section (\S+):$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([0-9a-f]+) <(.+)>:$", line)
        if m:
            func = m.group(2)
            starts.setdefault(section, []).append((int(m.group(1), 16), func))
            refs.setdefault(func, [])
            continue
        m = re.match(r"^\s+[0-9a-f]+: (R_X86_64_\w+)\s+(.+)$", line)
        if m and func:
            refs[func].append(split_target(m.group(2), m.group(1)))
            continue
        # A call, jump or address within the section needs no relocation: objdump
        # names its target (`call 1c9d0 <f>`, `lea ...(%rip) # 4567 <f+0x10>`).
        if func:
            for target in re.findall(r"<([^>+]+)(?:\+0x[0-9a-f]+)?>", line):
                if target != func:
                    refs[func].append((target, None))

    # Data sections: the relocations at each offset.
    data = {}  # section -> sorted [(offset, (name, offset))]
    section = None
    for line in objdump("-r", obj).splitlines():
        m = re.match(r"^RELOCATION RECORDS FOR \[(.+)\]:$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([0-9a-f]+)\s+(R_X86_64_\w+)\s+(.+)$", line)
        if m and section not in starts:
            data.setdefault(section, []).append(
                (int(m.group(1), 16), split_target(m.group(3), m.group(2))))
    # Every address anything refers to starts an object.
    bounds = {s: set() for s in data}
    for targets in list(refs.values()) + [[t for _, t in d] for d in data.values()]:
        for name, off in targets:
            if name in bounds:
                bounds[name].add(off)
    bounds = {s: sorted(b) for s, b in bounds.items()}
    for s in data:
        data[s].sort()

    def function_at(section, off):
        table = starts.get(section, [])
        i = bisect.bisect_right(table, (off, "\uffff")) - 1
        return table[i][1] if i >= 0 else None

    def successors(node):
        if isinstance(node, str) and node not in refs:
            yield from image.calls(node) or ()
            return
        if isinstance(node, str):
            targets = refs.get(node, [])
        else:
            section, off = node
            b = bounds.get(section, [])
            i = bisect.bisect_right(b, off)
            end = b[i] if i < len(b) else float("inf")
            d = data.get(section, [])
            lo = bisect.bisect_left(d, (off,))
            targets = [t for at, t in d[lo:] if at < end]
        for name, off in targets:
            if off is None:
                yield name  # a function named by its label
            elif name in starts:
                f = function_at(name, off)
                if f:
                    yield f
            elif name in data:
                yield (name, off)
            elif name in bounds or name.startswith("."):
                continue  # a data section without relocations: constants
            else:
                yield name

    parent = {ENTRY: None}
    if ENTRY not in refs:
        sys.exit(f"check-no-panic: no {ENTRY} in {obj}")
    queue, bad = [ENTRY], []
    while queue:
        node = queue.pop()
        for nxt in successors(node):
            if nxt in parent:
                continue
            parent[nxt] = node
            if isinstance(nxt, tuple) or nxt in refs:
                queue.append(nxt)
            elif PANIC.search(nxt):
                bad.append(nxt)
            elif RUST.match(nxt) and image.calls(nxt) is not None:
                queue.append(nxt)
            elif not ALLOWED_LINUX.match(nxt):
                bad.append(nxt)

    def show(n):
        return f"{n[0]}+{n[1]:#x}" if isinstance(n, tuple) else n

    if bad:
        for b in sorted(bad):
            path = [b]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            print(f"check-no-panic: {ENTRY} reaches {b}:", file=sys.stderr)
            for p in reversed(path):
                print(f"    {show(p)}", file=sys.stderr)
        print(f"check-no-panic: FAIL: {len(bad)} symbols a core must not reach", file=sys.stderr)
        return 1
    functions = sum(1 for n in parent if isinstance(n, str) and n in refs)
    image_functions = sum(1 for n in parent if isinstance(n, str) and n not in refs
                          and RUST.match(n))
    print(f"check-no-panic: {ENTRY} reaches {functions} functions of {obj} and "
          f"{image_functions} Rust functions of the kernel image: no panic, and of Linux "
          "only leaf copies and thunks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
