import ArgumentParser
import Foundation

/// The one place errors become exit codes. Runs `body`, prints the summary line (stdout) when a
/// runner was created, logs any error as one `<ts> <stage> error: ...` line (stderr, through `log`: text or JSON as
/// `--log-format` says), and exits with the code of `StageExitCode.of(error)` via ArgumentParser's `ExitCode`.
public enum StageMain {
    public static func run(stage: String, log: Log? = nil, _ body: (inout StageRunner?) throws -> Void) throws {
        var runner: StageRunner?
        do {
            try body(&runner)
            if let r = runner { print(r.summary) }
        } catch {
            if let r = runner { print(r.summary) }
            let code = StageExitCode.of(error)
            (runner?.log ?? log ?? Log(stage: stage, level: .info)).error(message(error, of: stage))
            throw ExitCode(code.rawValue)
        }
    }

    /// An error's description without the `<stage>: ` its own text may start with (StageError's do), which the log
    /// line already names.
    static func message(_ error: any Error, of stage: String) -> String {
        let text = "\(error)"
        return text.hasPrefix("\(stage): ") ? String(text.dropFirst(stage.count + 2)) : text
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
        try run(stage: definition.name, log: Log(stage: definition.name, level: options.logLevel, format: options.logFormat)) { runner in
            let r = try StageRunner(definition, options: options, flagOverrides: flagOverrides)
            runner = r
            try body(r)
        }
    }

    /// The same for a command that is not a stage (`inspect`, `sample`, `worldgen`, `pretrain gates`, ...):
    /// an error becomes one `<ts> <command> error: ...` line on stderr and the exit code of
    /// `StageExitCode.of(error)`. swift-argument-parser's own exits (`ExitCode`, `ValidationError` -> 64,
    /// `CleanExit`) pass through untouched.
    public static func command(_ name: String, _ body: () throws -> Void) throws {
        do { try body() } catch let e as ExitCode { throw e } catch let e as ValidationError { throw e } catch let e as CleanExit {
            throw e
        } catch {
            Log(stage: name, level: .info).error(message(error, of: name))
            throw ExitCode(StageExitCode.of(error).rawValue)
        }
    }
}
