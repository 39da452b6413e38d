import Foundation

extension PerfEntry {
    /// Parses perf-bench's JSON lines (`make bench` saves them to runs/perf/perf-bench.jsonl) into
    /// entries. Tolerant: blank lines, build chatter and lines that are not JSON objects are skipped.
    /// Known benches map to the report's figures: sgemm and conv2d GFLOP/s (conv also as a ratio to
    /// sgemm), the U-Net and ViT training steps (ours, the JAX peer, ours/peer), DDIM images/s, peak RSS.
    /// Other benches keep their rate fields (`*_per_s`, `gflops`, `gbytes_per_s`, step times);
    /// a line with "error" becomes an entry with unit "error" and value 0.
    public static func parse(jsonLines text: String) -> [PerfEntry] {
        text.split(whereSeparator: \.isNewline).flatMap { line -> [PerfEntry] in
            let s = line.trimmingCharacters(in: .whitespaces)
            guard s.hasPrefix("{"), let obj = (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any],
                  let bench = obj["bench"] as? String else { return [] }
            return entries(bench: bench, obj)
        }
    }

    static func entries(bench: String, _ o: [String: Any]) -> [PerfEntry] {
        func num(_ k: String) -> Double? {
            if let n = o[k] as? NSNumber, !(o[k] is Bool) { return n.doubleValue.isFinite ? n.doubleValue : nil }
            return nil
        }
        func str(_ k: String) -> String { o[k].map { "\($0)" } ?? "?" }
        if let e = o["error"] { return [PerfEntry(bench: bench, label: "failed: \(e)", value: 0, unit: "error")] }
        var out: [PerfEntry] = []
        func add(_ label: String, _ key: String, _ unit: String, scale: Double = 1) {
            if let v = num(key) { out.append(PerfEntry(bench: bench, label: label, value: v * scale, unit: unit)) }
        }
        let threads = o["threads"].map { ", \($0) threads" } ?? ""
        switch bench {
        case "sgemm":
            add("sgemm \(str("m"))x\(str("k"))x\(str("n")), \(str("calls")) call(s)\(threads)", "gflops", "GFLOP/s")
        case "conv2d":
            let shape = "\(str("pass")) \(str("cin"))->\(str("cout")) @\(str("res")), batch \(str("n"))\(threads)"
            add("conv2d \(shape)", "gflops", "GFLOP/s")
            add("conv2d \(shape) / sgemm", "ratio_to_sgemm", "x sgemm")
        case "unet_train_step":
            let what = "U-Net train step (ours, \(str("impl"))), batch \(str("batch")) @\(str("res"))"
            add(what, "median_step_s", "s")
            add("\(what) peak RSS", "peak_rss_mb", "MB")
        case "unet_train_step_peer":
            add("U-Net train step (peer: \(str("impl")) \(str("jax")))", "median_step_s", "s")
        case "unet_train_step_ratio":
            add("U-Net step time ours / peer (goal \(str("goal")))", "ours_over_peer", "x")
        case "vit_train_step":
            let what = "ViT train step (ours, \(str("impl"))), width \(str("width")) x depth \(str("depth")), batch \(str("batch")) @\(str("res"))"
            add(what, "median_step_s", "s")
            add("\(what) images/s", "images_per_s", "images/s")
        case "vit_train_step_peer":
            add("ViT train step (peer: \(str("impl")) \(str("jax")))", "median_step_s", "s")
        case "vit_train_step_ratio":
            add("ViT step time ours / peer (goal \(str("goal")))", "ours_over_peer", "x")
        case "ddim_sample":
            let precision = o["precision"].map { ", \("\($0)".uppercased()) products" } ?? ""
            add("DDIM \(str("steps")) steps\(o["cfg"] as? Bool == true ? " + CFG" : ""), batch \(str("batch")) @\(str("res"))\(precision)",
                "images_per_s", "images/s")
        case "sample", "sample_batch":
            let how = o["reference"] as? String == "keys" ? "reference keys once" : "reference coupled every step"
            add("sampling (shipped generator, \(str("setting"))): \(str("scheduler")) \(str("steps")) + CFG, \(how), batch \(str("batch")), "
                + "\(str("precision").uppercased())", "images_per_s", "images/s")
        case "sampling_goal":
            let what = "\(str("scheduler")) \(str("steps")), \(str("precision").uppercased()), batch \(str("batch"))"
            let range = num("over_before_min").flatMap { lo in num("over_before_max").map { String(format: "; repetitions %.2f-%.2f", lo, $0) } } ?? ""
            add("sampling \(what) / the bench's sampler before (goal \(str("goal"))x\(range))", "over_before", "x")
            add("sampling \(what) / ddim_sample FP32 (goal \(str("goal"))x)", "over_ddim_sample", "x")
        case "bf16_gemm":
            add("BF16 GEMM \(str("m"))x\(str("k"))x\(str("n"))\(threads)", "gflops", "GFLOP/s")
            add("BF16 GEMM \(str("m"))x\(str("k"))x\(str("n")) / sgemm", "ratio_to_sgemm", "x sgemm")
        case "conv_loop_peak_rss":
            add("peak RSS after a conv forward/backward loop", "peak_rss_mb", "MB")
        case "pretrain_unet_step":
            add("pretrain U-Net step, batch \(str("batch"))", "s_per_step", "s")
            add("pretrain U-Net step peak RSS", "peak_rss_mb", "MB")
        default:
            let detail = ["kernel", "dist", "pass", "config", "impl"].compactMap { k in o[k].map { "\($0)" } }.joined(separator: " ")
            let name = detail.isEmpty ? bench : "\(bench) \(detail)"
            let rates: [(String, String)] = [("gflops", "GFLOP/s"), ("gbytes_per_s", "GB/s"), ("images_per_s", "images/s"),
                                             ("pairs_per_s", "pairs/s"), ("mb_per_s", "MB/s"), ("mparams_per_s", "Mparams/s"),
                                             ("items_per_s", "items/s"), ("ms_per_step", "ms/step"), ("median_step_s", "s"),
                                             ("s_per_step", "s"), ("peak_rss_mb", "MB")]
            for (k, unit) in rates { add(name, k, unit) }
        }
        return out
    }
}
