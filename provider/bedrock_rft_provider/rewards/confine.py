"""Child-side lockdown for the isolated runner: seccomp-bpf and Landlock, installed through ``ctypes``.

Both are unprivileged kernel features (no root, no namespaces), so they can work inside AWS Lambda;
whether a host allows them is detected at run time. :data:`CONFINE_SOURCE` is executed by the child
interpreter before any untrusted code runs; once installed, neither filter can be removed.

- **seccomp** returns ``EPERM`` for process creation (fork, vfork, non-thread clone, exec), signals to
  other processes (kill, tkill, tgkill, pidfd), tracing and reading other processes' memory, sockets,
  namespaces, mounts, bpf, perf, userfaultfd, io_uring and keyrings. Threads still work (``clone`` with
  ``CLONE_THREAD``; ``clone3`` answers ``ENOSYS`` so glibc falls back to ``clone``).
- **capabilities**: a child still running as root (the interpreter is unreadable to ``nobody``, so
  root could not be dropped) gives up every capability, so the parent's non-dumpable memory stays
  closed to it (root keeps ``CAP_SYS_PTRACE`` otherwise).
- **Landlock** limits the file system to reading the interpreter's own directories and reading and
  writing the private working directory: ``/etc``, ``/proc`` (so ``/proc/<ppid>/environ``), home
  directories and the rest of ``/tmp`` become unreachable.
"""

from __future__ import annotations

CONFINE_SOURCE = r"""
def _confine(workdir, read_paths, want_landlock, want_seccomp):
    import ctypes, os, struct
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    applied = []
    if os.geteuid() == 0:
        # A child left root (the interpreter unreadable to nobody) keeps CAP_SYS_PTRACE, which opens
        # even a non-dumpable parent's /proc/<ppid>/mem, where the expected values are. Drop every
        # capability for good: the bounding set (none regained on exec), root-on-exec off, then all sets.
        for cap in range(64):
            libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP
        libc.prctl(28, 0x2F, 0, 0, 0)  # PR_SET_SECUREBITS: NOROOT, NO_SETUID_FIXUP, each locked
        header = ctypes.create_string_buffer(struct.pack("=Ii", 0x20080522, 0), 8)  # capability v3
        sets = ctypes.create_string_buffer(24)  # effective, permitted, inheritable x 2 words: all 0
        if libc.capset(header, sets) == 0:
            applied.append("no_capabilities")
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: required by both, unprivileged
        return applied
    if want_landlock:
        handled = (1 << 13) - 1  # every ABI-1 file access right
        attr = struct.pack("=Q", handled)
        abuf = ctypes.create_string_buffer(attr, len(attr))
        fd = libc.syscall(444, abuf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
        if fd >= 0:
            ok = True
            rules = [(p, 1 | 4 | 8) for p in read_paths] + [(workdir, handled), ("/dev/null", 2 | 4)]
            for path, access in rules:
                try:
                    pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                if not os.path.isdir(path):
                    access &= 1 | 2 | 4  # file rights only
                rule = struct.pack("=Qi", access, pfd)
                rbuf = ctypes.create_string_buffer(rule, len(rule))
                if libc.syscall(445, ctypes.c_int(fd), ctypes.c_int(1), rbuf, ctypes.c_uint32(0)) != 0:
                    ok = False
                os.close(pfd)
            if ok and libc.syscall(446, ctypes.c_int(fd), ctypes.c_uint32(0)) == 0:
                applied.append("landlock")
            os.close(fd)
    if want_seccomp:
        machine = os.uname().machine
        if machine == "x86_64":
            arch, clone, clone3 = 0xC000003E, 56, 435
            denied = (57, 58, 59, 322, 62, 200, 234, 424, 434, 101, 310, 311, 41, 53, 272, 308, 165, 166,
                      155, 161, 321, 298, 323, 250, 248, 249, 425, 426, 427)
        elif machine in ("aarch64", "arm64"):
            arch, clone, clone3 = 0xC00000B7, 220, 435
            denied = (221, 281, 129, 130, 131, 424, 434, 117, 270, 271, 198, 199, 97, 268, 40, 39, 51, 280,
                      241, 282, 219, 217, 218, 425, 426, 427)
        else:
            return applied
        eperm, enosys = 0x00050000 | 1, 0x00050000 | 38
        allow, kill = 0x7FFF0000, 0x80000000
        prog = [(0x20, 0, 0, 4), (0x15, 1, 0, arch), (0x06, 0, 0, kill), (0x20, 0, 0, 0)]
        if machine == "x86_64":  # x32 syscall numbers alias the x86_64 ones: refuse them all
            prog += [(0x35, 0, 1, 0x40000000), (0x06, 0, 0, eperm)]
        for nr in denied:
            prog += [(0x15, 0, 1, nr), (0x06, 0, 0, eperm)]
        prog += [(0x15, 0, 1, clone3), (0x06, 0, 0, enosys)]
        # clone: allowed only with CLONE_THREAD (a new thread, not a new process)
        prog += [(0x15, 0, 4, clone), (0x20, 0, 0, 16), (0x45, 0, 1, 0x00010000), (0x06, 0, 0, allow),
                 (0x06, 0, 0, eperm), (0x06, 0, 0, allow)]
        raw = b"".join(struct.pack("=HBBI", *insn) for insn in prog)
        filt = ctypes.create_string_buffer(raw, len(raw))
        fprog = struct.pack("=HxxxxxxQ", len(prog), ctypes.addressof(filt))
        pbuf = ctypes.create_string_buffer(fprog, len(fprog))
        if libc.prctl(22, 2, ctypes.addressof(pbuf), 0, 0) == 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
            applied.append("seccomp")
    return applied
"""
