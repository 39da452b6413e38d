/// Per-item work: items, claims with leases and fencing tokens, completion.
///
/// Life of an item: `pending` -claim-> `running` (lease owner, expiry, token += 1)
/// -complete-> `done` (its artifacts recorded in the same transaction) or -fail-> `failed`.
/// A `running` item whose lease expired is claimable again (by anyone); the new claim bumps the
/// token, so the old holder's `complete`/`fail` is refused with `.leaseLost` and records nothing.
extension ManifestDB {
    /// Adds items with stable `keys` to a stage run, ignoring keys already present.
    /// Returns how many were added.
    @discardableResult
    public func addItems(stageRun: Int64, keys: [String]) throws -> Int {
        try transaction {
            try requireExists("stage_runs", "stage run", stageRun)
            var added = 0
            for key in keys {
                added += try db.run("INSERT OR IGNORE INTO items(stage_run, key, key_hash) VALUES (?,?,?)",
                                    [.int(stageRun), .text(key), .int(Shard.hash(key))])
            }
            return added
        }
    }

    /// Claims up to `limit` items of `stageRun` for `owner`: first running items whose lease expired
    /// (`lease_expiry <= now`), then pending items, each in id order. Each claimed item gets status `running`,
    /// `attempts += 1`, lease expiry `now + lease` seconds and a new fencing token.
    /// With `shard`, only items whose `Shard.hash(key) % count == index` are considered.
    /// Runs in one `BEGIN IMMEDIATE` transaction, so concurrent claimers never share an item.
    /// `excluding`: keys never claimed here (a stage's reduce items, claimed by `claimReduce`).
    public func claim(stageRun: Int64, owner: String, limit: Int, lease: Double, shard: Shard? = nil,
                      excluding: Set<String> = []) throws -> [Claim] {
        precondition(limit >= 0 && lease > 0, "claim(limit: \(limit), lease: \(lease)) needs limit >= 0 and lease > 0")
        return try transaction {
            let t = now
            let s = shard ?? Shard(index: 0, count: 1)
            // Two index seeks on items(stage_run, status, id): expired leases first (recover
            // abandoned work), then pending items. One OR-query would scan done items: O(n) a claim.
            let shardArgs: [SQLValue] = [.int(Int64(s.count)), .int(Int64(s.index))]
            let (notIn, notInArgs) = Self.notIn(excluding, from: 6)
            var rows = try db.query("""
                SELECT id, key, token FROM items WHERE stage_run=?1 AND status='running' AND lease_expiry <= ?2
                AND key_hash % ?3 = ?4\(notIn) ORDER BY id LIMIT ?5
                """, [.int(stageRun), .double(t)] + shardArgs + [.int(Int64(limit))] + notInArgs, Self.claimRow)
            if rows.count < limit {
                rows += try db.query("""
                    SELECT id, key, token FROM items WHERE stage_run=?1 AND status='pending'
                    AND key_hash % ?3 = ?4\(notIn) ORDER BY id LIMIT ?5
                    """, [.int(stageRun), .null] + shardArgs + [.int(Int64(limit - rows.count))] + notInArgs, Self.claimRow)
            }
            try take(rows, owner: owner, expiry: t + lease)
            return rows
        }
    }

    /// Claims a pending one of `keys` (a stage's reduce items: the step that needs every other item, as bench's
    /// results) for `owner`, whatever the shard, only once no other item of `stageRun` is pending or running; in id
    /// order. nil when it is not time yet or none is pending. One transaction, so of the shards that finish together
    /// exactly one gets it. A reduce item that is running is never taken here, even with an expired lease (no lock
    /// says its holder is gone): `reclaimOrphans` without a shard (an unsharded run) hands it back.
    public func claimReduce(stageRun: Int64, owner: String, lease: Double, keys: Set<String>) throws -> Claim? {
        precondition(lease > 0, "claimReduce(lease: \(lease)) needs lease > 0")
        guard !keys.isEmpty else { return nil }
        return try transaction {
            let t = now
            let (notIn, notInArgs) = Self.notIn(keys, from: 2)
            let open = try db.query("""
                SELECT COUNT(*) FROM items WHERE stage_run=?1 AND status IN ('pending', 'running')\(notIn)
                """, [.int(stageRun)] + notInArgs, { $0.int(0) }).first ?? 0
            guard open == 0 else { return nil }
            let (isIn, isInArgs) = Self.notIn(keys, from: 2, negated: false)
            let rows = try db.query("""
                SELECT id, key, token FROM items WHERE stage_run=?1 AND status='pending'\(isIn) ORDER BY id LIMIT 1
                """, [.int(stageRun)] + isInArgs, Self.claimRow)
            try take(rows, owner: owner, expiry: t + lease)
            return rows.first
        }
    }

    private static func claimRow(_ r: Row) -> Claim { Claim(item: r.int(0), key: r.text(1), token: r.int(2) + 1) }

    /// " AND key NOT IN (?first, ...)" (or IN) with its arguments, numbered from `first`; "" for no keys.
    private static func notIn(_ keys: Set<String>, from first: Int, negated: Bool = true) -> (String, [SQLValue]) {
        guard !keys.isEmpty else { return ("", []) }
        let sorted = keys.sorted()
        let marks = sorted.indices.map { "?\(first + $0)" }.joined(separator: ", ")
        return (" AND key \(negated ? "NOT IN" : "IN") (\(marks))", sorted.map { .text($0) })
    }

    /// Marks claimed `rows` running for `owner` until `expiry`, with their new tokens.
    private func take(_ rows: [Claim], owner: String, expiry: Double) throws {
        for c in rows {
            try db.run("""
                UPDATE items SET status='running', attempts=attempts+1, lease_owner=?, lease_expiry=?,
                token=? WHERE id=?
                """, [.text(owner), .double(expiry), .int(c.token), .int(c.item)])
        }
    }

    /// Throws `.leaseLost` unless `claim` holds the item's current token and it is still running.
    /// Returns the item's stage run.
    private func checkHeld(_ claim: Claim) throws -> Int64 {
        guard let (token, status, stageRun) = try db.query("SELECT token, status, stage_run FROM items WHERE id=?",
                                                            [.int(claim.item)], { ($0.int(0), $0.text(1), $0.int(2)) }).first
        else { throw ManifestError.notFound(path: path, what: "item", id: claim.item) }
        guard token == claim.token, status == "running" else {
            throw ManifestError.leaseLost(path: path, item: claim.item, key: claim.key, token: claim.token,
                                          currentToken: token, status: status)
        }
        return stageRun
    }

    /// Marks the claimed item done and records its `artifacts` (producing item = this item) in one
    /// transaction. Throws `.leaseLost` (recording nothing) if another claim superseded this one.
    /// Completing after the lease expired but before anyone reclaimed the item is accepted.
    /// Returns the new artifact ids.
    @discardableResult
    public func complete(_ claim: Claim, artifacts: [NewArtifact]) throws -> [Int64] {
        try transaction {
            let stageRun = try checkHeld(claim)
            let ids = try insertArtifacts(stageRun: stageRun, item: claim.item, artifacts)
            try db.run("UPDATE items SET status='done', lease_owner=NULL, lease_expiry=NULL, error=NULL WHERE id=?",
                       [.int(claim.item)])
            return ids
        }
    }

    /// Marks the claimed item failed with `error` (it is not claimed again until `retryFailed`).
    /// Throws `.leaseLost` if another claim superseded this one.
    public func fail(_ claim: Claim, error: String) throws {
        try transaction {
            _ = try checkHeld(claim)
            try db.run("UPDATE items SET status='failed', lease_owner=NULL, lease_expiry=NULL, error=? WHERE id=?",
                       [.text(error), .int(claim.item)])
        }
    }

    /// Extends a held claim's lease to `now + lease` seconds, for an item whose work outlasts one lease (a training run):
    /// throws `.leaseLost` if another claim superseded this one (its holder must stop; what it writes is refused).
    public func renew(_ claim: Claim, lease: Double) throws {
        guard try !renew([claim], lease: lease).isEmpty else { return }
        // Lost: a claim's token and status never come back, so this names who holds the item now.
        try transaction { _ = try checkHeld(claim) }
    }

    /// Returns claimed items to `pending` without counting a failure (e.g. on SIGINT).
    /// Claims no longer held are skipped. Returns how many were released.
    @discardableResult
    public func release(_ claims: [Claim]) throws -> Int {
        try transaction {
            var n = 0
            for c in claims {
                n += try db.run("""
                    UPDATE items SET status='pending', lease_owner=NULL, lease_expiry=NULL
                    WHERE id=? AND token=? AND status='running'
                    """, [.int(c.item), .int(c.token)])
            }
            return n
        }
    }

    /// Returns every `running` item of `stageRun` in `shard` (all items without one) to `pending` and bumps
    /// its fencing token, whatever its lease says. Only for a caller that knows no live worker can hold
    /// those items (StageKit holds the stage's or shard's exclusive lock): it turns a crashed worker's
    /// leases into work at once instead of after they expire, and the token bump still fences a worker
    /// that turns out to be alive. Returns how many items came back.
    /// `excluding`: keys left alone (a shard's scope lock does not cover reduce items, which any shard may hold).
    @discardableResult
    public func reclaimOrphans(stageRun: Int64, shard: Shard? = nil, excluding: Set<String> = []) throws -> Int {
        try transaction {
            let s = shard ?? Shard(index: 0, count: 1)
            let (notIn, notInArgs) = Self.notIn(excluding, from: 4)
            return try db.run("""
                UPDATE items SET status='pending', lease_owner=NULL, lease_expiry=NULL, token=token+1
                WHERE stage_run=?1 AND status='running' AND key_hash % ?2 = ?3\(notIn)
                """, [.int(stageRun), .int(Int64(s.count)), .int(Int64(s.index))] + notInArgs)
        }
    }

    /// Extends the leases of `claims` to `now + lease`. Returns the claims no longer held
    /// (superseded or finished); the caller must abandon those items.
    @discardableResult
    public func renew(_ claims: [Claim], lease: Double) throws -> [Claim] {
        precondition(lease > 0, "renew(lease: \(lease)) needs lease > 0")
        return try transaction {
            let expiry = now + lease
            var lost: [Claim] = []
            for c in claims {
                let n = try db.run("UPDATE items SET lease_expiry=? WHERE id=? AND token=? AND status='running'",
                                   [.double(expiry), .int(c.item), .int(c.token)])
                if n == 0 { lost.append(c) }
            }
            return lost
        }
    }

    /// Sets the failed items of a stage run back to `pending`. Returns how many.
    @discardableResult
    public func retryFailed(stageRun: Int64) throws -> Int {
        try locked {
            try db.run("UPDATE items SET status='pending', error=NULL WHERE stage_run=? AND status='failed'",
                       [.int(stageRun)])
        }
    }

    /// Item counts by status (`running` includes items whose lease expired).
    public func counts(stageRun: Int64) throws -> ItemCounts {
        try locked {
            var c = ItemCounts()
            try db.run("SELECT status, count(*) FROM items WHERE stage_run=? GROUP BY status", [.int(stageRun)]) {
                let n = Int($0.int(1))
                switch ItemStatus(rawValue: $0.text(0)) {
                case .pending: c.pending = n
                case .running: c.running = n
                case .done: c.done = n
                case .failed: c.failed = n
                case nil: break
                }
            }
            return c
        }
    }

    /// Items of a stage run (optionally only those with `status`), in id order.
    public func items(stageRun: Int64, status: ItemStatus? = nil) throws -> [ItemRecord] {
        try locked {
            let sql = "SELECT id, key, status, attempts, lease_owner, lease_expiry, token, error FROM items "
                + "WHERE stage_run=?1 AND (?2 IS NULL OR status=?2) ORDER BY id"
            return try db.query(sql, [.int(stageRun), status.map { .text($0.rawValue) } ?? .null]) {
                ItemRecord(id: $0.int(0), key: $0.text(1), status: ItemStatus(rawValue: $0.text(2)) ?? .failed,
                           attempts: Int($0.int(3)), leaseOwner: $0.optText(4), leaseExpiry: $0.optDouble(5),
                           token: $0.int(6), error: $0.optText(7))
            }
        }
    }
}

/// One row of `items`.
public struct ItemRecord: Sendable, Equatable {
    public let id: Int64
    public let key: String
    public let status: ItemStatus
    public let attempts: Int
    public let leaseOwner: String?
    public let leaseExpiry: Double?
    public let token: Int64
    public let error: String?
}
