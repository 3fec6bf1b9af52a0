import GRDB

extension Ledger {
    /// Versioned migrations. A shipped migration is never edited; changes are new migrations.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE files (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      path TEXT NOT NULL,
                      size INTEGER NOT NULL,
                      mtime REAL NOT NULL,
                      inode INTEGER NOT NULL,
                      role TEXT NOT NULL CHECK (role IN ('clip','sidecar','manifest','other')),
                      state TEXT NOT NULL CHECK (state IN ('waiting','taken','gone')),
                      drop_id TEXT,
                      completed_at REAL NOT NULL
                    );
                    -- One live row per path: a rescan of a known file finds it instead of adding it.
                    CREATE UNIQUE INDEX files_live_path ON files(path) WHERE state = 'waiting';
                    CREATE INDEX files_state ON files(state);
                    CREATE INDEX files_path ON files(path);
                    CREATE INDEX files_inode ON files(inode);

                    CREATE TABLE drops (
                      id TEXT PRIMARY KEY,
                      pipeline TEXT NOT NULL,
                      stem TEXT NOT NULL,
                      clip_path TEXT,
                      sidecar_path TEXT,
                      source_file_id INTEGER,
                      manifest_entry INTEGER,
                      clip_sha256 TEXT,
                      clip_bytes INTEGER,
                      state TEXT NOT NULL,
                      reason_code TEXT,
                      reason_message TEXT,
                      reason_location TEXT,
                      manifest_json TEXT,
                      probe_json TEXT,
                      assets_json TEXT,
                      duplicate_of TEXT,
                      lease_owner TEXT,
                      lease_expiry REAL,
                      created_at REAL NOT NULL,
                      updated_at REAL NOT NULL,
                      finished_at REAL
                    );
                    CREATE INDEX drops_state ON drops(state, created_at);
                    -- One drop per entry of a clip-list manifest, however often the assembler looks at it.
                    CREATE UNIQUE INDEX drops_manifest_entry ON drops(source_file_id, manifest_entry) WHERE manifest_entry IS NOT NULL;

                    CREATE TABLE deliveries (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      drop_id TEXT NOT NULL REFERENCES drops(id),
                      target TEXT NOT NULL,
                      platform TEXT NOT NULL,
                      account TEXT NOT NULL,
                      profile TEXT NOT NULL,
                      state TEXT NOT NULL,
                      plan TEXT NOT NULL,
                      plan_detail TEXT,
                      spec_key TEXT,
                      spec_json TEXT,
                      metadata_json TEXT NOT NULL,
                      content_sha256 TEXT NOT NULL,
                      rendition_path TEXT,
                      rendition_sha256 TEXT,
                      rendition_bytes INTEGER,
                      cover_path TEXT,
                      remote_session TEXT,
                      confirmed_offset INTEGER NOT NULL DEFAULT 0,
                      remote_id TEXT,
                      remote_url TEXT,
                      attempts INTEGER NOT NULL DEFAULT 0,
                      not_before REAL,
                      error_code TEXT,
                      error_message TEXT,
                      lease_owner TEXT,
                      lease_expiry REAL,
                      created_at REAL NOT NULL,
                      updated_at REAL NOT NULL,
                      upload_started_at REAL,
                      upload_finished_at REAL,
                      bytes_sent INTEGER NOT NULL DEFAULT 0,
                      UNIQUE (drop_id, target)
                    );
                    CREATE INDEX deliveries_state ON deliveries(state, not_before);
                    CREATE INDEX deliveries_identity ON deliveries(content_sha256, target);

                    CREATE TABLE events (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      at REAL NOT NULL,
                      drop_id TEXT,
                      delivery_id INTEGER,
                      target TEXT,
                      stage TEXT NOT NULL,
                      from_state TEXT,
                      to_state TEXT NOT NULL,
                      detail TEXT
                    );
                    CREATE INDEX events_drop ON events(drop_id);

                    CREATE TABLE tokens (
                      account TEXT PRIMARY KEY,
                      access_token TEXT,
                      expires_at REAL,
                      refresh_token TEXT,
                      updated_at REAL NOT NULL
                    );
                    """)
        }
        // The delivery engine: attempts, quota spends, breakers, schedule and priority on deliveries,
        // and the fingerprint of the configured refresh token (a changed one replaces the stored token).
        m.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    ALTER TABLE deliveries ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE deliveries ADD COLUMN scheduled_at REAL;
                    ALTER TABLE deliveries ADD COLUMN slot_at REAL;
                    ALTER TABLE deliveries ADD COLUMN gate TEXT;
                    CREATE INDEX deliveries_slot ON deliveries(slot_at) WHERE slot_at IS NOT NULL;

                    CREATE TABLE attempts (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
                      number INTEGER NOT NULL,
                      owner TEXT NOT NULL,
                      account TEXT NOT NULL,
                      started_at REAL NOT NULL,
                      finished_at REAL,
                      outcome TEXT CHECK (outcome IN ('published','retry','deferred','failed','interrupted','cancelled')),
                      error_code TEXT,
                      http_status INTEGER,
                      bytes_at_start INTEGER NOT NULL DEFAULT 0,
                      bytes_sent INTEGER NOT NULL DEFAULT 0,
                      detail TEXT
                    );
                    CREATE INDEX attempts_delivery ON attempts(delivery_id);
                    CREATE INDEX attempts_open ON attempts(delivery_id) WHERE outcome IS NULL;

                    CREATE TABLE quota_spends (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      account TEXT NOT NULL,
                      rule TEXT NOT NULL,
                      at REAL NOT NULL,
                      units INTEGER NOT NULL,
                      delivery_id INTEGER
                    );
                    CREATE INDEX quota_spends_window ON quota_spends(account, rule, at);

                    CREATE TABLE breakers (
                      account TEXT PRIMARY KEY,
                      state TEXT NOT NULL CHECK (state IN ('closed','open','half_open')),
                      failures INTEGER NOT NULL DEFAULT 0,
                      open_until REAL,
                      probe_delivery INTEGER,
                      probe_until REAL,
                      last_error TEXT,
                      updated_at REAL NOT NULL
                    );

                    ALTER TABLE tokens ADD COLUMN seed_hash TEXT;
                    """)
        }
        // Crash quarantine: how often processing a drop took the daemon down with it.
        m.registerMigration("v3") { db in
            try db.execute(sql: "ALTER TABLE drops ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0")
            // The clip's identity when it was hashed (device:inode:size:mtime): re-checked before the
            // probe, before conversion and around the upload of the original.
            try db.execute(sql: "ALTER TABLE drops ADD COLUMN clip_identity TEXT")
        }
        // Limits a platform reports at run time (Instagram's content_publishing_limit), per account and rule.
        m.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    CREATE TABLE quota_limits (
                      account TEXT NOT NULL,
                      rule TEXT NOT NULL,
                      quota_limit INTEGER NOT NULL,
                      observed_at REAL NOT NULL,
                      PRIMARY KEY (account, rule)
                    )
                    """)
        }
        m.registerMigration("v5") { db in
            // When a refresh token itself lapses (TikTok, LinkedIn, Meta's long-lived tokens), and the
            // last check of the account (a refresh and who it is): warned about before a post needs it.
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN refresh_expires_at REAL")
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN checked_at REAL")
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN check_ok INTEGER")
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN check_detail TEXT")
            // The scopes the last grant or refresh named.
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN scope TEXT")
        }
        m.registerMigration("v6") { db in
            // A browser session's cookies for an account, sealed like its tokens.
            try db.execute(
                sql: """
                    CREATE TABLE cookie_jars (
                      account TEXT PRIMARY KEY,
                      jar TEXT NOT NULL,
                      cookies INTEGER NOT NULL,
                      domains TEXT NOT NULL,
                      expires_at REAL,
                      imported_at REAL NOT NULL
                    )
                    """)
        }
        m.registerMigration("v7") { db in
            // Alerts as an outbox: a fact is written once per sink (UNIQUE key) before anything is sent, so
            // a crash neither loses nor doubles one; the cursor says how far the events were read.
            try db.execute(
                sql: """
                    CREATE TABLE notifications (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      sink TEXT NOT NULL,
                      key TEXT NOT NULL,
                      kind TEXT NOT NULL,
                      title TEXT NOT NULL,
                      body TEXT NOT NULL,
                      created_at REAL NOT NULL,
                      next_at REAL NOT NULL,
                      attempts INTEGER NOT NULL DEFAULT 0,
                      sent_at REAL,
                      given_up INTEGER NOT NULL DEFAULT 0,
                      last_error TEXT,
                      UNIQUE (sink, key)
                    )
                    """)
            try db.execute(sql: "CREATE TABLE notify_cursor (name TEXT PRIMARY KEY, event_id INTEGER NOT NULL)")
        }
        m.registerMigration("v8") { db in
            // What a retry asked of a delivery's platform session (DeliveryRecord.sessionPolicy).
            try db.execute(sql: "ALTER TABLE deliveries ADD COLUMN session_policy TEXT")
        }
        m.registerMigration("v9") { db in
            // Fair claims (Ledger+FairClaim): the next drop of the next writer — a clip list, or a folder —
            // found through an index, not by sorting every waiting drop on each claim.
            try db.execute(sql: "CREATE INDEX drops_fair ON drops(state, \(Ledger.fairKeySQL), created_at)")
            // A drop's files, looked up on every answer (is each still the version taken?): by index, not a scan.
            try db.execute(sql: "CREATE INDEX files_drop ON files(drop_id)")
        }
        // The typed boundary (Ledger+MigrationV10.swift): CHECK constraints on the closed sets of drops and
        // deliveries, and events' facts as JSON values instead of text parsed back.
        m.registerMigration("v10") { db in try Self.migrateV10(db) }
        m.registerMigration("v11") { db in
            // An alert's facts as values (AlertFacts: drop, target, reason, where, when it failed), so a
            // receiver acts on them without parsing the message.
            try db.execute(sql: "ALTER TABLE notifications ADD COLUMN facts TEXT")
        }
        m.registerMigration("v12") { db in
            // What a language model wrote for a delivery (`ai:`), kept before it is used: a restart reads it
            // instead of asking (and paying) again.
            try db.execute(
                sql: """
                    CREATE TABLE written_texts (
                        drop_id TEXT NOT NULL REFERENCES drops(id) ON DELETE CASCADE,
                        target TEXT NOT NULL,
                        model TEXT NOT NULL,
                        request TEXT NOT NULL,
                        answer TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (drop_id, target)
                    )
                    """)
        }
        // After the post (issue 25): each published post read back until it shows as asked, then its numbers
        // as a time series (Ledger+PostChecks.swift).
        m.registerMigration("v13") { db in try Self.migrateV13(db) }
        m.registerMigration("v14") { db in
            // What a delivery owes after its post (a subtitle track…), each kept as intended before its
            // request leaves: a kill in between is settled by reading the platform, never by sending twice.
            try db.execute(
                sql: """
                    CREATE TABLE follow_ups (
                        delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
                        key TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('intended', 'made', 'failed')),
                        remote_id TEXT,
                        detail TEXT,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (delivery_id, key)
                    )
                    """)
        }
        // Numbers from a platform's second API (issue 25): Instagram's reach, kept as given; and an account
        // whose grant lacks the insights permission, recorded once (Ledger+Insights.swift).
        m.registerMigration("v15") { db in try Self.migrateV15(db) }
        m.registerMigration("v16") { db in
            // What an account's names resolved to on its platform (a YouTube playlist by name), so a restart
            // neither lists again nor makes a second one (Ledger+RemoteNames.swift).
            try db.execute(
                sql: """
                    CREATE TABLE remote_names (
                        account TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        remote_id TEXT NOT NULL,
                        resolved_at REAL NOT NULL,
                        PRIMARY KEY (account, kind, name)
                    )
                    """)
        }
        m.registerMigration("v17") { db in
            // The S3 inbox's objects, one row per key and ETag: a listed object becomes a drop once, and
            // what became of its original in the bucket (copied to archive/ or failed/, then deleted) is
            // settled across a restart (Ledger+S3Inbox.swift).
            try db.execute(sql: S3InboxObject.createTable(postgres: false))
        }
        // Several hosts on one ledger (issue 27): a file's identity is unique, a drop's filing is claimed.
        m.registerMigration("v18") { db in try Self.migrateV18(db) }
        // Cheap drops (issue 30): the crash check, a drop's deliveries and a sidecar's lookup by index.
        m.registerMigration("v19") { db in for statement in Ledger.v19Indexes { try db.execute(sql: statement) } }
        // A post's quota charged once per delivery (issue 27): a takeover or a crash resume never charges again.
        m.registerMigration("v20") { db in for statement in Ledger.v20Statements(postgres: false) { try db.execute(sql: statement) } }
        // Cheap drops (issue 30): the files indexes no query needs, gone.
        m.registerMigration("v21") { db in for statement in Ledger.v21Statements { try db.execute(sql: statement) } }
        // Uploads at wire speed (issue 30): the fast digest the changed-file check hashes with, beside the sha256.
        m.registerMigration("v22") { db in for statement in Ledger.v22Statements { try db.execute(sql: statement) } }
        return m
    }
}
