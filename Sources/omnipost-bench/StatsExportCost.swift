import Foundation
import OmniPostCore
import OmniPostLedger

/// `stats` and `export` over a big ledger (issue 25): `posts` deliveries and `readings` metric rows made
/// in SQL, then `omnipost stats` and `omnipost export --table metrics` run as a user runs them, each beside
/// the same reads made directly by `sqlite3` — wall time and peak memory of each process.
func statsExportRows(root: URL, binary: String, posts: Int, readings: Int) throws -> [[String]] {
    let dir = root.appendingPathComponent("stats")
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("p"), withIntermediateDirectories: true)
    let file = dir.appendingPathComponent("p.yaml")
    try "version: 1\nname: bench\nroot: \(dir.appendingPathComponent("p").path)\nsandbox: embedded\ntargets: [youtube:main]\n".write(
        to: file, atomically: true, encoding: .utf8)
    let ledger = dir.appendingPathComponent("p/ledger.sqlite").path
    _ = try Ledger(path: ledger)  // the schema, by the migrations
    let t0 = 1_767_225_600  // 2026-01-01
    let perPost = max(1, readings / max(1, posts))
    let make = """
        PRAGMA journal_mode=WAL;
        BEGIN;
        INSERT INTO drops(id, pipeline, stem, state, created_at, updated_at) VALUES ('bench', 'bench', 'bench', 'archived', 0, 0);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(posts))
        INSERT INTO deliveries (id, drop_id, target, platform, account, profile, state, plan, metadata_json, content_sha256, remote_id,
            error_code, created_at, updated_at, upload_started_at, upload_finished_at, bytes_sent)
        SELECT i, 'bench', 'target-' || i, CASE i % 3 WHEN 0 THEN 'youtube' WHEN 1 THEN 'x' ELSE 'tiktok' END, 'main', 'p',
            CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'published' END, 'pass', '{}', 'sha' || i, 'r' || i,
            CASE WHEN i % 20 = 0 THEN 'rejected_by_platform' END, \(t0) + i * 300, \(t0) + i * 300 + 60, \(t0) + i * 300,
            \(t0) + i * 300 + 20 + (i % 40), 50000000 FROM n;
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(perPost * posts - 1))
        INSERT INTO post_metrics (delivery_id, at, age_seconds, views, likes, comments, shares, saves)
        SELECT 1 + i / \(perPost), \(t0) + (1 + i / \(perPost)) * 300 + 3600 * (1 + i % \(perPost)), 3600 * (1 + i % \(perPost)),
            (i % \(perPost) + 1) * 100, (i % \(perPost) + 1) * 7, i % \(perPost), i % 5, i % 3 FROM n;
        COMMIT;
        """
    _ = try runMeasured("/usr/bin/sqlite3", [ledger, make])
    let since = "3650d"
    let stats = try runMeasured(binary, ["stats", file.path, "--since", since, "--json"])
    // The two reads `stats` makes, straight in sqlite3.
    let statsSQL = """
        SELECT d.id, d.platform, d.account, d.state, d.error_code, d.upload_started_at, d.upload_finished_at, d.bytes_sent,
            COALESCE(d.upload_finished_at, d.updated_at) FROM deliveries d WHERE d.state IN ('published', 'failed');
        SELECT d.id, d.target, m.at, m.views, m.likes, m.comments, m.shares, m.saves FROM deliveries d
            LEFT JOIN post_metrics m ON m.delivery_id = d.id AND m.at = (SELECT MAX(at) FROM post_metrics WHERE delivery_id = d.id)
            WHERE d.state = 'published';
        """
    let statsBase = try runMeasured("/usr/bin/sqlite3", [ledger, statsSQL])
    let export = try runMeasured(binary, ["export", file.path, "--table", "metrics", "--from", "2020-01-01", "--to", "2030-01-01"])
    let exportBase = try runMeasured("/usr/bin/sqlite3", ["-csv", "-header", ledger, "SELECT * FROM post_metrics ORDER BY rowid"])
    func cell(_ r: (out: String, seconds: Double, maxRSSKiB: Int, cpuSeconds: Double)) -> String {
        String(format: "%.2f s, %d MiB", r.seconds, r.maxRSSKiB / 1024)
    }
    let what = "\(posts / 1000)k posts, \(perPost * posts / 1000)k readings"
    return [
        ["stats --json (\(what))", cell(stats), "sqlite3: " + cell(statsBase), String(format: "%.1f× time", stats.seconds / max(0.001, statsBase.seconds))],
        [
            "export --table metrics (\(what))", cell(export), "sqlite3 -csv: " + cell(exportBase),
            String(format: "%.1f× time, %d lines", export.seconds / max(0.001, exportBase.seconds), export.out.split(whereSeparator: \.isNewline).count)
        ]
    ]
}
