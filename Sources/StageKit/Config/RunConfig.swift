/// The `[run]` section every pipeline config carries: run name (default run directory
/// `runs/<name>`), master seed, worker threads.
public struct RunConfig: Sendable, Equatable {
    public var name: String
    public var seed: Int
    public var threads: Int

    public static let schema = ConfigSchema(section: "run", keys: [
        ConfigKey("name", .string, default: nil, doc: "run name; the default run directory is runs/<name>",
                  check: { v in
                      if case let .string(s) = v, s.isEmpty || s.contains("/") || s.hasPrefix(".") {
                          return "'\(s)' is not a usable directory name; hint: use letters, digits, '-' or '_'"
                      }
                      return nil
                  }),
        .integer("seed", default: 0, doc: "master seed; every stage derives its streams from it", in: 0...Int64(UInt32.max)),
        .integer("threads", default: 2, doc: "worker threads (does not change results)", in: 1...256, affectsOutput: false),
    ])

    /// Reads `[run]` from a document.
    public init(_ document: TOMLDocument) throws {
        self.init(try RunConfig.schema.resolve(document))
    }

    /// `[run]` from its resolved section.
    public init(_ s: ConfigSection) {
        name = s.string("name"); seed = s.int("seed"); threads = s.int("threads")
    }

    public init(name: String, seed: Int, threads: Int) {
        self.name = name; self.seed = seed; self.threads = threads
    }
}
