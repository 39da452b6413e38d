import Report

extension BenchAssembly {
    /// The records of a bench's items in plan order (subjects as `subjects` lists them, then by key), after
    /// checking that every item of `keys` but the references and the results has one; `folder` (the stage's
    /// artifacts) is what the error names.
    public static func ordered(_ records: [BenchItemRecord], expected keys: [String], subjects: [BenchSubject],
                               folder: String) throws(BenchError) -> [BenchItemRecord] {
        let expected = keys.filter { !$0.hasPrefix("refs/") && !BenchWork.isResults($0) }
        let have = Set(records.map(\.key))
        let missing = expected.filter { !have.contains($0) }
        guard missing.isEmpty else {
            throw .badFile(path: folder, reason: "\(missing.count) item(s) have no scores yet (first: \(missing[0]))",
                           hint: "rerun bench: failed items are retried, then results are assembled")
        }
        let order = Dictionary(uniqueKeysWithValues: subjects.enumerated().map { ($1.id, $0) })
        return records.sorted { (order[$0.subject] ?? 0, $0.key) < (order[$1.subject] ?? 0, $1.key) }
    }

    /// `results.json` of run `run` from its ordered records: every model's scores per setting, win rates and colour
    /// shift against the base model, the frontier (the upstream tables, stage times, performance and figures are
    /// added by the caller).
    public static func results(run: String, config: [String: String], models: [BenchModel], records: [BenchItemRecord],
                               tieTolerance: Double, protocolInfo: ProtocolInfo) -> BenchResults {
        var results = BenchResults(run: run, config: config, protocolInfo: protocolInfo)
        results.models = BenchAssembly.models(models, records: records)
        results.winRates = BenchAssembly.winRates(models, baseline: BenchModel.baseName, records: records, tieTolerance: tieTolerance)
        results.colourShift = BenchAssembly.colourShift(models, baseline: BenchModel.baseName, records: records)
        results.frontier = BenchAssembly.frontier(records: records)
        return results
    }
}
