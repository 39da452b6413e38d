/// Whether operations record the graph. Task-local (and thread-local outside tasks), so concurrent
/// tasks each have their own setting: there is no shared global to race on.
public enum GradMode {
    @TaskLocal static var enabledValue: Bool = true
    /// True unless inside `withNoGrad`.
    public static var isEnabled: Bool { enabledValue }
}

/// Runs `body` without recording gradients (inference, EMA updates, evaluation).
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$enabledValue.withValue(false) { try body() }
}

/// Async variant of `withNoGrad`.
public func withNoGrad<T>(_ body: () async throws -> T) async rethrows -> T {
    try await GradMode.$enabledValue.withValue(false) { try await body() }
}
