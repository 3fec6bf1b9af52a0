import Foundation

/// An upload a gateway keeps as numbered part files in a folder of its own, merged in order once the
/// client says it is complete, or sent whole in one request: Bilibili's chunks (numbered from 1) and
/// Kuaishou's fragments (from 0) are kept the same way, each gateway judging completeness by its rules.
protocol PartFolderUpload {
    var dir: String { get }
    /// Each part's size, by its number.
    var parts: [Int: Int64] { get set }
    /// The merged (or whole) file, once there is one.
    var path: String? { get set }
}

extension PartFolderUpload {
    /// A new upload's folder under the sandbox's root.
    static func folder(_ root: URL, _ platform: String, token: String) throws -> String {
        let dir = root.appendingPathComponent("\(platform)/uploads/\(token)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    mutating func storePart(_ number: Int, _ bytes: Data) throws {
        try bytes.write(to: URL(fileURLWithPath: dir + "/\(number)"))
        parts[number] = Int64(bytes.count)
    }

    mutating func storeWhole(_ bytes: Data) throws {
        let whole = dir + "/whole.bin"
        try bytes.write(to: URL(fileURLWithPath: whole))
        path = whole
    }

    /// Joins the parts `numbers` in that order into one file (the caller has checked none is missing).
    mutating func merge(_ numbers: some Sequence<Int>) throws {
        let merged = dir + "/merged.bin"
        _ = FileManager.default.createFile(atPath: merged, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: merged))
        defer { try? out.close() }
        for i in numbers { try out.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: dir + "/\(i)"))) }
        path = merged
    }
}
