import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a test's own inotify descriptor saw: the tests that prove a file or folder is made once, or
/// never, read the kernel's own account of it rather than the folder afterwards.
enum InotifyNames {
    /// Every name the kernel reported through `watch` (opened non-blocking), in order, until its queue is empty.
    static func read(_ watch: Int32) -> [String] {
        var out: [String] = []
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(watch, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            var at = 0
            while at + MemoryLayout<inotify_event>.size <= n {
                let (len, name) = buffer.withUnsafeBytes { raw -> (Int, String) in
                    let e = raw.load(fromByteOffset: at, as: inotify_event.self)
                    let start = at + MemoryLayout<inotify_event>.size
                    return (Int(e.len), String(decoding: raw[start..<(start + Int(e.len))].prefix { $0 != 0 }, as: UTF8.self))
                }
                out.append(name)
                at += MemoryLayout<inotify_event>.size + len
            }
        }
        return out
    }
}
