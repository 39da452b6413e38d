import TensorCore

extension Variable {
    /// Nearest-neighbour upsampling of NCHW by an integer factor: [N, C, H, W] -> [N, C, fH, fW].
    /// d = the sum of g over each f x f block.
    public func upsampleNearest(factor: Int) -> Variable {
        Variable.record("upsampleNearest", Kernels.upsampleNearest(value, factor: factor), inputs: [self]) { g in
            [Kernels.upsampleNearestBackward(g, factor: factor)]
        }
    }

    /// Average pooling of NCHW with kernel = stride = `k`: [N, C, H, W] -> [N, C, H/k, W/k].
    /// d = g / k^2 spread over each window.
    public func avgPool(_ k: Int) -> Variable {
        Variable.record("avgPool", Kernels.avgPool2d(value, kernel: k), inputs: [self]) { g in
            [Kernels.avgPool2dBackward(g, kernel: k)]
        }
    }

    /// Bilinear resize of NCHW to (height, width), PyTorch `align_corners=False`, no antialias.
    /// d = the transpose of the interpolation (each output's gradient split over its 4 sources).
    public func resizeBilinear(height: Int, width: Int) -> Variable {
        let xs = shape
        return Variable.record("resizeBilinear", Kernels.resizeBilinear(value, height: height, width: width), inputs: [self]) { g in
            [Kernels.resizeBilinearBackward(g, inputShape: xs)]
        }
    }
}
