// swift-tools-version:6.0
// PatchDPO in Swift: a staged, resumable pipeline for patch-level preference optimisation.
// Module arrows are recorded in docs/ARCHITECTURE.md; SwiftPM enforces them. Each target lists exactly the modules its
// sources import (scripts/check-deps, run by `make test`, fails on a listed dependency never imported and on an
// unlisted import), with two exceptions: test targets list the executables they spawn (below), the CodeFingerprint
// plugin its tool.
import PackageDescription

// TensorCore's kernels (exp, GELU, norms, softmax rows, Winograd transforms) are vectorised by the
// compiler: the x86-64 baseline gives 4-wide SSE, Haswell (AVX2 + FMA, every x86 server since 2013,
// and what OpenBLAS already picks here) 8-wide. Only when the host building the package is x86-64
// Linux (the manifest is compiled for the host); other hosts keep their baseline. An x86 CPU without
// AVX2 would stop with an illegal instruction: delete these flags there.
#if arch(x86_64)
let tensorCoreSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux]))]
#else
let tensorCoreSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "PatchDPO",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "Autograd", targets: ["Autograd"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "World", targets: ["World"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Manifest", targets: ["Manifest"]),
        .library(name: "StageKit", targets: ["StageKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // TOML configs (pipelines/*.toml): TOMLKit wraps toml++ (TOML 1.0).
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // Stage logs (StageKit's `Log` is a thin front over a swift-log `Logger`): timestamped text or JSON lines.
        // 1.16.2: the version built and tested here; StageLogHandler implements its `log(event:)`.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries, found by pkg-config (scripts/bootstrap installs them: Debian packages on Linux, Homebrew
        // formulae on macOS). OpenBLAS is linked on Linux only; on Apple platforms TensorCore's BLAS.swift uses
        // Accelerate instead. macOS has never built this package (README, Portability).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        // libjpeg-turbo's libjpeg62 API: JPEG references (the DreamBench release); setjmp error shim in shim.h.
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),

        // ErrorKinds: what kind of failure an error is (bad data, missing input, I/O, ...); every library's
        // error type says its kind, StageKit maps kinds to the one exit-code table.
        .target(name: "ErrorKinds"),

        // Numerics stack.
        .target(name: "Random"),
        // CBF16: the BF16 GEMM (AVX512-BF16, FP32 accumulation) behind TensorCore's `precision = "bf16"`; hand-written
        // because the Debian OpenBLAS exports no cblas_sbgemm. Its vector code is per-function `target(...)`, chosen at
        // run time (`pdpo_bf16_available`), so the package still runs on CPUs without it. -O3 in debug builds too, so
        // tests exercise the optimised kernel.
        .target(name: "CBF16", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "TensorCore", dependencies: ["CBF16", .target(name: "CBLAS", condition: .when(platforms: [.linux]))],
                swiftSettings: tensorCoreSettings),
        .target(name: "Autograd", dependencies: ["TensorCore"]),
        .target(name: "Checkpoint", dependencies: ["ErrorKinds"]),
        .target(name: "Optim", dependencies: ["Checkpoint", "ErrorKinds"]),
        .target(name: "NN", dependencies: ["Autograd", "TensorCore", "Random", "Checkpoint", "Optim"]),

        // Diffusion: noise schedules, schedulers, guidance (never sees the network).
        .target(name: "Diffusion", dependencies: ["TensorCore"]),

        // Text: the word-level tokenizer of the text encoder.
        .target(name: "Text"),

        // Objectives: the training losses of METHODS.md 5 and the preference training step.
        .target(name: "Objectives", dependencies: [
            "Autograd", "TensorCore", "Diffusion", "Models", "NN", "Optim", "Random", "Checkpoint",
        ]),

        // Models: ViT, text encoder, CLIP pair, U-Net, resampler (MODELS.md).
        .target(name: "Models", dependencies: ["NN", "Autograd", "TensorCore", "Random", "Checkpoint", "Text", "ErrorKinds"]),

        // Pretrained: pretrain records (`PretrainRecord`, the JSON beside every pretrained checkpoint) and the loaders
        // that build models from them, SHA-256 checked, strict; the tokenizer policy of a record (its words must be
        // this code's).
        .target(name: "Pretrained", dependencies: [
            "Models", "NN", "Autograd", "TensorCore", "Random", "Diffusion", "Checkpoint", "Text", "World", "Manifest",
            "ErrorKinds",
        ]),

        // Generation: the sampler (DDIM + CFG, reward guidance, adaptive normalisation) and the
        // Generator bundle (text encoder, image encoder, resampler, U-Net) used by every stage that samples;
        // `Generator.load(directory:)` assembles one from Pretrained's loaders.
        .target(name: "Generation", dependencies: [
            "Pretrained", "Models", "NN", "Autograd", "TensorCore", "Random", "Diffusion", "Imaging", "Text", "World", "ErrorKinds",
        ]),
        // Training: world data batches and the four pretraining loops (knows nothing of the CLI).
        .target(name: "Training", dependencies: [
            "Generation", "Models", "NN", "Autograd", "TensorCore", "Random", "Optim", "Checkpoint",
            "Diffusion", "World", "Imaging", "Text", "PatchQuality", "ErrorKinds",
        ]),

        // PreferenceTraining: dpo-train's multi-run loop (resume, checkpoint cadence) and its data: pool images,
        // pairs files, quality maps, encoded pairs (knows nothing of the stage machinery).
        .target(name: "PreferenceTraining", dependencies: [
            "Objectives", "Generation", "Pretrained", "Models", "PatchQuality", "Autograd", "TensorCore", "Checkpoint", "Optim",
            "Random", "Diffusion", "Imaging", "Text", "World", "Manifest", "ErrorKinds",
        ]),

        // PoolStages: prompt planning, scorers and pairing of generate-pool / score-and-pair.
        .target(name: "PoolStages", dependencies: [
            "Generation", "Models", "Autograd", "TensorCore", "Random", "Text", "Imaging", "World", "PatchQuality", "ErrorKinds",
        ]),

        // Upstream: what a stage reads of its upstream stages' outputs, verified against the manifest, and the
        // pretrained models built from them with Pretrained's loaders (one record type, PretrainRecord).
        .target(name: "Upstream", dependencies: ["Generation", "Pretrained", "Models", "PatchQuality", "Manifest", "StageKit", "World"]),

        // World and images (independent of the tensor library).
        .target(name: "Imaging", dependencies: ["CPNG", "CJPEG", "ErrorKinds"]),
        .target(name: "World", dependencies: ["Imaging", "Random", "Text", "ErrorKinds"]),

        // Pipeline machinery (knows nothing of tensors).
        .target(name: "Manifest", dependencies: ["CSQLite", "ErrorKinds"]),
        .target(name: "StageKit", dependencies: [
            "Manifest", "ErrorKinds", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "TOMLKit", package: "TOMLKit"), .product(name: "Logging", package: "swift-log"),
        ]),

        // Patch quality (METHODS 2-4): quality maps, SSL finetuning loss, patch matching, AUROC.
        .target(name: "PatchQuality", dependencies: [
            "Models", "NN", "Autograd", "TensorCore", "Random", "Checkpoint", "Optim", "World", "Imaging", "ErrorKinds",
        ]),

        .target(name: "Report", dependencies: ["ErrorKinds"]),
        .target(name: "BenchKit", dependencies: [
            "Report", "Generation", "Pretrained", "Models", "NN", "Autograd", "TensorCore", "Random", "Text", "World", "Imaging",
            "Checkpoint", "Manifest", "ErrorKinds",
        ]),

        // The code version of every stage: a build plugin hashes the sources of the modules the stage links and compiles
        // the hash in (Manifest's SourceFingerprint), so changed code reruns the stage without a hand-bumped string.
        // Every other executable uses it too, for `--version` (the package version, kept in the tool, and the code version).
        .executableTarget(name: "code-fingerprint", dependencies: ["Manifest", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .plugin(name: "CodeFingerprint", capability: .buildTool(), dependencies: ["code-fingerprint"]),

        // Executables: thin; each parses its command line with swift-argument-parser (`--help`, `--version`).
        .executableTarget(name: "perf-bench", dependencies: [
            "TensorCore", "Autograd", "NN", "Optim", "World", "Manifest",
            "Random", "Checkpoint", "Models", "Generation", "Training", "PatchQuality",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "inspect", dependencies: [
            "Manifest", "StageKit", "Checkpoint",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "fake-stage", dependencies: [
            "Manifest", "StageKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "pretrain", dependencies: [
            "Training", "Generation", "Pretrained", "Models", "NN", "Checkpoint", "Optim", "Imaging", "World", "Manifest",
            "StageKit", "TensorCore", "Autograd", "Random", "Diffusion", "Text",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "sample", dependencies: [
            "Generation", "Imaging", "TensorCore", "StageKit", "World",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "generate-pool", dependencies: [
            "PoolStages", "Upstream", "Generation", "Imaging", "World", "Manifest", "StageKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "score-and-pair", dependencies: [
            "PoolStages", "Upstream", "Imaging", "Manifest", "StageKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "ssl-finetune-vit", dependencies: [
            "PatchQuality", "Upstream", "Models", "TensorCore", "Checkpoint", "Optim", "World", "Imaging", "Manifest", "StageKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "patch-quality", dependencies: [
            "PatchQuality", "Upstream", "Models", "TensorCore", "Checkpoint", "Imaging", "Manifest", "StageKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "dpo-train", dependencies: [
            "PreferenceTraining", "Objectives", "Models", "Upstream", "Generation", "Manifest", "StageKit", "Optim", "TensorCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "bench", dependencies: [
            "BenchKit", "Upstream", "Generation", "StageKit", "World",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "st-interop", dependencies: ["Checkpoint", "StageKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          plugins: ["CodeFingerprint"]),
        .executableTarget(name: "vit-probe", dependencies: [
            "Training", "Models", "NN", "Optim", "Random", "TensorCore", "Autograd", "World", "PatchQuality", "Imaging", "StageKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),
        // Helper process for the Manifest two-process claiming test.
        .executableTarget(name: "manifest-worker", dependencies: ["Manifest", "StageKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          plugins: ["CodeFingerprint"]),
        .executableTarget(name: "render-report", dependencies: ["Report", "Manifest", .product(name: "ArgumentParser", package: "swift-argument-parser")], plugins: ["CodeFingerprint"]),
        .executableTarget(name: "worldgen", dependencies: [
            "Imaging", "World", "StageKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["CodeFingerprint"]),

        // Tests. A test target's dependency on an executable target (manifest-worker, fake-stage, inspect, pretrain,
        // generate-pool, ...) is never imported: it makes SwiftPM build the executable the tests spawn by name
        // (Executables.productsDirectory), so `swift test` never runs a stale one; scripts/check-deps accepts it when
        // the tests name the executable in a string.
        // TestSupport holds the helpers the test targets share, one of each: the test RNG (TestRNG), the
        // element-wise comparison (expectClose) and finite-difference checks, the process helper (Spawned,
        // Executables), JPEG files from cjpeg; only test targets depend on it.
        .target(name: "TestSupport", dependencies: ["TensorCore", "Autograd", "NN"], path: "Tests/TestSupport"),
        .testTarget(name: "RandomTests", dependencies: ["Random"]),
        .testTarget(name: "TensorCoreTests", dependencies: ["TestSupport", "TensorCore"]),
        .testTarget(name: "AutogradTests", dependencies: ["TestSupport", "Autograd", "TensorCore"]),
        .testTarget(name: "NNTests", dependencies: ["TestSupport", "NN", "Autograd", "TensorCore", "Random", "Checkpoint", "Optim"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint"]),
        .testTarget(name: "OptimTests", dependencies: ["TestSupport", "Optim", "Checkpoint", "Random"]),
        .testTarget(name: "DiffusionTests", dependencies: ["Diffusion", "TensorCore"]),
        .testTarget(name: "TextTests", dependencies: ["Text"]),
        .testTarget(name: "ModelsTests", dependencies: ["TestSupport", "Models", "NN", "Autograd", "TensorCore", "Random", "Text", "Checkpoint", "Optim"]),
        .testTarget(name: "ObjectivesTests", dependencies: [
            "TestSupport", "Objectives", "Models", "NN", "Autograd", "TensorCore", "Diffusion", "Optim", "Random",
        ]),
        .testTarget(name: "PreferenceTrainingTests", dependencies: [
            "PreferenceTraining", "Objectives", "PatchQuality", "Models", "Checkpoint", "Manifest", "Random", "TensorCore", "Diffusion",
        ]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "WorldTests", dependencies: ["World", "Imaging"]),
        .testTarget(name: "ManifestTests", dependencies: ["TestSupport", "Manifest", "CSQLite", "ErrorKinds", "manifest-worker"]),
        .testTarget(name: "GenerationTests", dependencies: [
            "TestSupport", "Generation", "Pretrained", "Models", "NN", "Autograd", "TensorCore", "Random", "Diffusion", "Imaging", "Text",
            "Checkpoint", "Manifest", "World",
        ]),
        .testTarget(name: "TrainingTests", dependencies: [
            "TestSupport", "Training", "Generation", "Models", "NN", "Autograd", "TensorCore", "Random", "Optim", "Checkpoint",
            "Diffusion", "World", "Text",
        ]),
        .testTarget(name: "PoolStagesTests", dependencies: [
            "PoolStages", "Upstream", "Pretrained", "Models", "Random", "Checkpoint", "Diffusion", "Imaging", "World", "Manifest",
            "StageKit", "NN", "TensorCore", "PatchQuality", "generate-pool", "score-and-pair", "TestSupport",
        ]),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(name: "BenchKitTests", dependencies: [
            "TestSupport", "BenchKit", "Report", "World", "Imaging", "Models", "NN", "Random", "Generation", "Pretrained", "Training",
            "Checkpoint", "Diffusion", "Manifest",
        ]),
        .testTarget(name: "PatchQualityTests", dependencies: [
            "PatchQuality", "Models", "NN", "Autograd", "TensorCore", "Random", "Checkpoint", "World", "Imaging",
            "Optim", "Manifest", "Pretrained", "ssl-finetune-vit", "patch-quality", "TestSupport",
        ]),
        .testTarget(name: "PretrainTests", dependencies: [
            "pretrain", "Pretrained", "Training", "Models", "Checkpoint", "Manifest", "NN", "Random", "World", "TestSupport", "Autograd", "TensorCore",
        ]),
        .testTarget(name: "StageKitTests", dependencies: [
            "StageKit", "Manifest", "fake-stage", "inspect", "TestSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The exit-code table across libraries (each error type's kind), the commands outside the stage lifecycle, every
        // executable's --help and --version (ExecutableHelpTests), every stage's config keys in its --help and `inspect config`
        // (StageConfigTests), and the repository tree (no two paths differ only by case: PathCaseTests).
        .testTarget(name: "CommandTests", dependencies: [
            "StageKit", "ErrorKinds", "BenchKit", "Checkpoint", "Generation", "Pretrained", "Imaging", "Manifest", "Optim", "PatchQuality", "Models", "TensorCore", "Training",
            "PoolStages", "PreferenceTraining", "Random", "Report", "World", "sample", "st-interop", "manifest-worker", "worldgen",
            "generate-pool", "score-and-pair", "dpo-train", "bench", "code-fingerprint", "fake-stage", "inspect", "patch-quality",
            "perf-bench", "pretrain", "render-report", "ssl-finetune-vit", "vit-probe", "TestSupport",
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer harness of the file parsers (scripts/fuzz, `make fuzz`). libFuzzer supplies its `main`, so the target
// links only with `-sanitize=fuzzer`: it is part of the package only when PATCHDPO_FUZZ is set, and `swift build`
// and `swift build --build-tests` never see it.
if Context.environment["PATCHDPO_FUZZ"] != nil {
    package.products.append(.executable(name: "fuzz-parsers", targets: ["fuzz-parsers"]))
    package.targets.append(.executableTarget(name: "fuzz-parsers", dependencies: [
        "Checkpoint", "Imaging", "StageKit", "World", "Pretrained", "Models", "Diffusion",
    ]))
}
