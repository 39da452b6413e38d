import ArgumentParser
import Foundation

/// The one place errors become exit codes. Runs `body`, prints the summary line (stdout) when a
/// runner was created, prints any error as one `<stage>: error: ...` line (stderr), and exits with
/// the code of `StageExitCode.of(error)` via ArgumentParser's `ExitCode`.
public enum StageMain {
    public static func run(stage: String, _ body: (inout StageRunner?) throws -> Void) throws {
        var runner: StageRunner?
        do {
            try body(&runner)
            if let r = runner { print(r.summary) }
        } catch {
            if let r = runner { print(r.summary) }
            let code = StageExitCode.of(error)
            // StageError descriptions already start with the stage name.
            let line = error is StageError ? "\(error)\n" : "\(stage): error: \(error)\n"
            FileHandle.standardError.write(Data(line.utf8))
            throw ExitCode(code.rawValue)
        }
    }

    /// `run(stage:)` for a stage: opens its runner (config, locks, manifest: `StageRunner.init`) and runs `body`
    /// with it, so the summary line and the exit code cover the opening too. With `--show-config` it prints the
    /// effective config instead (`[run]` and the stage's section, each value's origin) and stops, creating nothing.
    public static func run(_ definition: StageDefinition, options: CommonOptions, flagOverrides: [String] = [],
                           _ body: (StageRunner) throws -> Void) throws {
        if options.showConfig {
            return try command(definition.name) {
                let read = try StageRunner.readConfig(definition, options: options, flagOverrides: flagOverrides)
                print("# \(definition.name): the effective config from \(options.config)\n" + read.run.effective + "\n"
                      + read.config.effective, terminator: "")
            }
        }
        try run(stage: definition.name) { runner in
            let r = try StageRunner(definition, options: options, flagOverrides: flagOverrides)
            runner = r
            try body(r)
        }
    }

    /// The same for a command that is not a stage (`inspect`, `sample`, `worldgen`, `pretrain gates`, ...):
    /// an error becomes one `<command>: error: ...` line on stderr and the exit code of
    /// `StageExitCode.of(error)`. swift-argument-parser's own exits (`ExitCode`, `ValidationError` -> 64,
    /// `CleanExit`) pass through untouched.
    public static func command(_ name: String, _ body: () throws -> Void) throws {
        do { try body() } catch let e as ExitCode { throw e } catch let e as ValidationError { throw e } catch let e as CleanExit {
            throw e
        } catch {
            FileHandle.standardError.write(Data("\(name): error: \(error)\n".utf8))
            throw ExitCode(StageExitCode.of(error).rawValue)
        }
    }
}
