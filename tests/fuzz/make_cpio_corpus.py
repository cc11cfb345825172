#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-cpio: small cpio "newc" archives of the shapes a boot module
takes (qemu/mkcpio's output, GNU cpio's block padding, the 070702 checksum variant, archives one
after another) and of the corners the tree must survive (symlink loops, dangling and absolute
links, a deep path, an archive's own /proc, device nodes, a file replacing another).

Usage: make_cpio_corpus.py [OUTDIR]   (default: corpus/cpio next to this script)
"""
import os
import sys

S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR = 0o040000, 0o100000, 0o120000, 0o020000


def entry(name, mode, data=b"", magic=b"070701", nlink=1):
    name = name.encode() + b"\0"
    check = sum(data) & 0xFFFFFFFF if magic == b"070702" else 0
    fields = [1, mode, 0, 0, nlink, 1700000000, len(data), 0, 0, 0, 0, len(name), check]
    out = magic + b"".join(b"%08x" % f for f in fields) + name
    out += b"\0" * (-len(out) % 4) + data
    return out + b"\0" * (-len(out) % 4)


def archive(*entries, magic=b"070701"):
    return b"".join(entries) + entry("TRAILER!!!", 0, magic=magic)


def d(name, perm=0o755):
    return entry(name, S_IFDIR | perm)


def f(name, data, perm=0o644, **kw):
    return entry(name, S_IFREG | perm, data, **kw)


def ln(name, target):
    return entry(name, S_IFLNK | 0o777, target.encode())


SEEDS = {
    "httpd-site": archive(d("bin"), f("bin/httpd", b"\x7fELF" + b"\0" * 60, 0o755), d("srv"),
                          f("srv/index.html", b"<h1>hi</h1>\n"), d("srv/css"), f("srv/css/site.css", b"p{}\n"),
                          ln("srv/home", "index.html")),
    "init-at-root": archive(d("."), f("init", b"\x7fELF", 0o755), d("etc"), f("etc/config", b"port=80\n")),
    "checksummed": archive(f("init", b"\x7fELF checked", 0o755, magic=b"070702"),
                           entry("srv", S_IFDIR | 0o755, magic=b"070702"), magic=b"070702"),
    "block-padded-pair": archive(f("one", b"1")) + b"\0" * 400 + archive(f("two", b"22")),
    "symlinks": archive(d("srv"), f("srv/a", b"a"), ln("srv/loop1", "loop2"), ln("srv/loop2", "loop1"),
                        ln("srv/abs", "/srv"), ln("srv/dangling", "nowhere"), ln("srv/up", "../srv/./a"),
                        ln("srv/slash", "a/"), ln("srv/self", ".")),
    "deep": archive(f("/".join(["d"] * 100) + "/leaf", b"deep")),
    "own-proc-and-devices": archive(d("proc"), f("proc/version", b"not ours"), d("dev"),
                                    entry("dev/console", S_IFCHR | 0o600), f("x", b"old"), f("./x", b"new")),
    "hardlinked": archive(f("a", b"", nlink=2), f("b", b"shared data", nlink=2)),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "cpio")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    print(f"{len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
