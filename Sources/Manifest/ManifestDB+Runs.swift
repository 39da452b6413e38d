/// Runs, stage runs, metrics and events.
extension ManifestDB {
    /// The id of the run `(name, configHash, codeVersion)`, inserting it (with `config`) if new.
    public func ensureRun(name: String, configHash: String, codeVersion: String, config: String = "") throws -> Int64 {
        try transaction {
            let key: [SQLValue] = [.text(name), .text(configHash), .text(codeVersion)]
            if let id = try db.query("SELECT id FROM runs WHERE name=? AND config_hash=? AND code_version=?", key,
                                     { $0.int(0) }).first {
                return id
            }
            try db.run("INSERT INTO runs(name, config, config_hash, code_version, created) VALUES (?,?,?,?,?)",
                       [.text(name), .text(config), .text(configHash), .text(codeVersion), .double(now)])
            return db.lastInsertRowID
        }
    }

    /// All runs, oldest first.
    public func runs() throws -> [RunRecord] {
        try locked {
            try db.query("SELECT id, name, config, config_hash, code_version, created FROM runs ORDER BY id") {
                RunRecord(id: $0.int(0), name: $0.text(1), config: $0.text(2), configHash: $0.text(3),
                          codeVersion: $0.text(4), created: $0.double(5))
            }
        }
    }

    static let stageRunColumns = "id, run, stage, fingerprint, status, started, finished, error"

    static func stageRun(_ r: Row) -> StageRunRecord {
        StageRunRecord(id: r.int(0), run: r.int(1), stage: r.text(2), fingerprint: r.text(3),
                       status: StageStatus(rawValue: r.text(4)) ?? .failed, started: r.optDouble(5),
                       finished: r.optDouble(6), error: r.optText(7))
    }

    /// Stage runs of `stage` (all stages when nil), newest first.
    public func stageRuns(stage: String?) throws -> [StageRunRecord] {
        try locked {
            if let stage {
                return try db.query("SELECT \(Self.stageRunColumns) FROM stage_runs WHERE stage=? ORDER BY id DESC",
                                    [.text(stage)], Self.stageRun)
            }
            return try db.query("SELECT \(Self.stageRunColumns) FROM stage_runs ORDER BY id DESC", [], Self.stageRun)
        }
    }

    /// The stage run with `id`. Throws `.notFound` if absent.
    public func stageRun(id: Int64) throws -> StageRunRecord {
        try locked {
            guard let r = try db.query("SELECT \(Self.stageRunColumns) FROM stage_runs WHERE id=?", [.int(id)],
                                       Self.stageRun).first else {
                throw ManifestError.notFound(path: path, what: "stage run", id: id)
            }
            return r
        }
    }

    /// Starts a stage run (status `running`, `started` = now) consuming the artifacts `inputs`
    /// (lineage edges artifact -> this stage run). Throws `.notFound` for an unknown run or input.
    public func beginStageRun(run: Int64, stage: String, fingerprint: String, inputs: [Int64]) throws -> Int64 {
        try transaction {
            try requireExists("runs", "run", run)
            try db.run("INSERT INTO stage_runs(run, stage, fingerprint, status, started) VALUES (?,?,?,'running',?)",
                       [.int(run), .text(stage), .text(fingerprint), .double(now)])
            let id = db.lastInsertRowID
            try addInputs(stageRun: id, artifacts: inputs)
            return id
        }
    }

    /// Adds lineage edges artifact -> `stageRun` (ignoring ones already present).
    public func addInputs(stageRun: Int64, artifacts: [Int64]) throws {
        try transaction {
            try requireExists("stage_runs", "stage run", stageRun)
            for a in artifacts {
                try requireExists("artifacts", "artifact", a)
                try db.run("INSERT OR IGNORE INTO lineage(artifact, stage_run) VALUES (?,?)", [.int(a), .int(stageRun)])
            }
        }
    }

    /// Sets a stage run's status; `done`, `failed` and `interrupted` also set `finished` = now,
    /// `running` clears it. `error` replaces the stored error (nil clears it).
    public func setStatus(stageRun: Int64, _ status: StageStatus, error: String?) throws {
        try transaction {
            try requireExists("stage_runs", "stage run", stageRun)
            let finished: SQLValue = [.done, .failed, .interrupted].contains(status) ? .double(now) : .null
            try db.run("UPDATE stage_runs SET status=?, finished=?, error=? WHERE id=?",
                       [.text(status.rawValue), finished, error.map { .text($0) } ?? .null, .int(stageRun)])
        }
    }

    /// Records one metric value (NaN allowed) at `step`.
    public func recordMetric(stageRun: Int64, name: String, step: Int, value: Double) throws {
        try locked {
            try db.run("INSERT INTO metrics(stage_run, name, step, value, time) VALUES (?,?,?,?,?)",
                       [.int(stageRun), .text(name), .int(Int64(step)), value.isNaN ? .null : .double(value), .double(now)])
        }
    }

    /// Metrics of one stage run (all when nil), ordered by stage run, name, step.
    public func metrics(stageRun: Int64?) throws -> [MetricRecord] {
        try locked {
            let sql = "SELECT stage_run, name, step, value, time FROM metrics"
                + (stageRun == nil ? "" : " WHERE stage_run=?") + " ORDER BY stage_run, name, step, id"
            return try db.query(sql, stageRun.map { [.int($0)] } ?? []) {
                MetricRecord(stageRun: $0.int(0), name: $0.text(1), step: Int($0.int(2)),
                             value: $0.optDouble(3) ?? .nan, time: $0.double(4))
            }
        }
    }

    /// Appends an event (`level` e.g. "info", "warn", "error").
    public func event(stageRun: Int64?, level: String, message: String) throws {
        try locked {
            try db.run("INSERT INTO events(time, stage_run, level, message) VALUES (?,?,?,?)",
                       [.double(now), stageRun.map { .int($0) } ?? .null, .text(level), .text(message)])
        }
    }

    /// Events of one stage run (all when nil), oldest first.
    public func events(stageRun: Int64?) throws -> [EventRecord] {
        try locked {
            let sql = "SELECT time, stage_run, level, message FROM events"
                + (stageRun == nil ? "" : " WHERE stage_run=?") + " ORDER BY id"
            return try db.query(sql, stageRun.map { [.int($0)] } ?? []) {
                EventRecord(time: $0.double(0), stageRun: $0.optInt(1), level: $0.text(2), message: $0.text(3))
            }
        }
    }

    func requireExists(_ table: String, _ what: String, _ id: Int64) throws {
        if try db.query("SELECT 1 FROM \(table) WHERE id=?", [.int(id)], { $0.int(0) }).isEmpty {
            throw ManifestError.notFound(path: path, what: what, id: id)
        }
    }
}
