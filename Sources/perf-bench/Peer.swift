import Foundation

/// Runs a JAX/XLA peer through scripts/bench-peer (its venv, its thread pinning) and returns its JSON line, or prints
/// `{"bench": "<bench>", "error": ...}` and returns nil. `peerScript` (a path under the repository) is passed as
/// PEER_SCRIPT; nil = bench-peer's default (the U-Net step peer in ../shared/peers).
func runPeer(bench: String, arguments: [String], peerScript: String? = nil) -> [String: Any]? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let script = root.appendingPathComponent("scripts/bench-peer")
    let process = Process()
    process.executableURL = script
    process.arguments = arguments
    if let peerScript {
        var env = ProcessInfo.processInfo.environment
        env["PEER_SCRIPT"] = root.appendingPathComponent(peerScript).path
        process.environment = env
    }
    let pipe = Pipe()
    process.standardOutput = pipe
    do {
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0,
              let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              obj["median_step_s"] is Double else {
            print("{\"bench\":\"\(bench)\",\"error\":\"\(script.path) exited \(process.terminationStatus); run it by hand to see why\"}")
            return nil
        }
        return obj
    } catch {
        print("{\"bench\":\"\(bench)\",\"error\":\"cannot run \(script.path): \(error)\"}")
        return nil
    }
}

/// Runs the peer and prints its line (`<bench>_peer`, with images/s when `batch` is given) and the ratio ours / peer
/// against `goal` (`<bench>_ratio`); prints the error line instead when the peer fails. Returns the peer's median step.
@discardableResult
func comparePeer(bench: String, ours: Double, goal: Double, arguments: [String], peerScript: String? = nil, batch: Int? = nil) -> Double? {
    guard let obj = runPeer(bench: bench + "_peer", arguments: arguments, peerScript: peerScript),
          let peer = obj["median_step_s"] as? Double else { return nil }
    let rate = batch.map { ",\"images_per_s\":\(Double($0) / peer)" } ?? ""
    print("{\"bench\":\"\(bench)_peer\",\"impl\":\"\(obj["peer"] ?? "jax")\",\"jax\":\"\(obj["jax"] ?? "?")\","
        + "\"params\":\(obj["params"] ?? 0),\"median_step_s\":\(peer)\(rate),\"loss\":\(obj["loss"] ?? 0)}")
    print("{\"bench\":\"\(bench)_ratio\",\"ours_over_peer\":\(ours / peer),\"goal\":\(goal)}")
    return peer
}
