/// The manifest schema as an ordered list of migrations. Migration `i` takes a file from
/// `PRAGMA user_version = i` to `i + 1`; `ManifestDB.schemaVersion == migrations.count`.
/// Append new migrations; never edit a released one.
enum Schema {
    /// Marks a SQLite file as a PatchDPO manifest (`PRAGMA application_id`), ASCII "PDPM".
    static let applicationID: Int32 = 0x5044_504D

    static let migrations: [String] = [v1]

    /// Version 1. Times are Unix seconds (REAL). Paths are relative to the run directory.
    /// `items.key_hash` is the stable FNV-1a hash of the key (63 bits) used by `Shard`.
    /// `items.token` is the fencing token, bumped by every claim.
    /// `metrics.value` is nullable because SQLite stores NaN as NULL; it reads back as NaN.
    static let v1 = """
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      config TEXT NOT NULL,
      config_hash TEXT NOT NULL,
      code_version TEXT NOT NULL,
      created REAL NOT NULL,
      UNIQUE (name, config_hash, code_version)
    ) STRICT;
    CREATE TABLE stage_runs (
      id INTEGER PRIMARY KEY,
      run INTEGER NOT NULL REFERENCES runs(id),
      stage TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed','interrupted')),
      started REAL,
      finished REAL,
      error TEXT
    ) STRICT;
    CREATE INDEX stage_runs_by_stage ON stage_runs(stage, id);
    CREATE TABLE items (
      id INTEGER PRIMARY KEY,
      stage_run INTEGER NOT NULL REFERENCES stage_runs(id),
      key TEXT NOT NULL,
      key_hash INTEGER NOT NULL CHECK (key_hash >= 0),
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','running','done','failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      lease_owner TEXT,
      lease_expiry REAL,
      token INTEGER NOT NULL DEFAULT 0,
      error TEXT,
      UNIQUE (stage_run, key)
    ) STRICT;
    CREATE INDEX items_by_status ON items(stage_run, status, id);
    CREATE TABLE artifacts (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL,
      path TEXT NOT NULL,
      sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
      bytes INTEGER NOT NULL CHECK (bytes >= 0),
      stage_run INTEGER NOT NULL REFERENCES stage_runs(id),
      item INTEGER REFERENCES items(id),
      created REAL NOT NULL
    ) STRICT;
    CREATE INDEX artifacts_by_path ON artifacts(path, id);
    CREATE INDEX artifacts_by_stage_run ON artifacts(stage_run, id);
    CREATE TABLE lineage (
      artifact INTEGER NOT NULL REFERENCES artifacts(id),
      stage_run INTEGER NOT NULL REFERENCES stage_runs(id),
      PRIMARY KEY (artifact, stage_run)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX lineage_by_consumer ON lineage(stage_run, artifact);
    CREATE TABLE metrics (
      id INTEGER PRIMARY KEY,
      stage_run INTEGER NOT NULL REFERENCES stage_runs(id),
      name TEXT NOT NULL,
      step INTEGER NOT NULL,
      value REAL,
      time REAL NOT NULL
    ) STRICT;
    CREATE INDEX metrics_by_stage_run ON metrics(stage_run, name, step);
    CREATE TABLE events (
      id INTEGER PRIMARY KEY,
      time REAL NOT NULL,
      stage_run INTEGER REFERENCES stage_runs(id),
      level TEXT NOT NULL,
      message TEXT NOT NULL
    ) STRICT;
    """
}
