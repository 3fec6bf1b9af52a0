import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether this process may not make memory executable that was writable — as systemd's
/// `MemoryDenyWriteExecute=yes` leaves a service (`packaging/omnipost@.service` sets it): by the
/// kernel's own switch (`PR_SET_MDWE`, Linux 6.3, used by systemd 254 and later) or by a seccomp filter
/// (older systemd). Both refuse `mprotect` adding execute to a page, so that is what is tried, on one
/// page of our own. Children inherit the rule, so a browser started from here must run without its
/// script compiler.
enum WriteExecute {
    static func denied() -> Bool {
        let size = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let page = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), page != MAP_FAILED else { return false }
        defer { munmap(page, size) }
        return mprotect(page, size, PROT_READ | PROT_EXEC) != 0
    }
}
