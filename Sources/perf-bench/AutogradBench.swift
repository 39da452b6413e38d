import Autograd
import Dispatch
import Foundation
import NN
import Random
import TensorCore

// Autograd benchmarks: the cost of the tape. A ResNet-style block (conv3x3 -> GroupNorm -> SiLU ->
// conv3x3 -> + x, MSE loss) run forward+backward through Autograd/NN, against the same TensorCore
// kernel calls sequenced by hand; and an attention module forward+backward. One JSON object per
// line; each figure is the median of 5 timed runs after one warm-up.

private func agMedianSeconds(reps: Int = 5, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<reps {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return times.sorted()[reps / 2]
}

private func agEmit(_ bench: String, _ fields: [(String, Double)]) {
    let parts = fields.map { "\"\($0.0)\":\(String(format: "%.4g", $0.1))" }
    print("{\"bench\":\"\(bench)\"," + parts.joined(separator: ",") + "}")
}

func runAutogradBenches() {
    let key = RNGKey(seed: 42)
    let (n, c, hw) = (8, 32, 16)
    let conv1 = Conv2d(c, c, kernelSize: 3, padding: 1, key: key.fold(in: "conv1"))
    let norm = GroupNorm(groups: 8, channels: c)
    let conv2 = Conv2d(c, c, kernelSize: 3, padding: 1, key: key.fold(in: "conv2"))
    let x = Init.uniform([n, c, hw, hw], low: -1, high: 1, key: key.fold(in: "x"))
    let zeros = Tensor(zeros: x.shape)

    let tape = agMedianSeconds {
        let xv = Variable(x, requiresGrad: true)
        let out = conv2(norm(conv1(xv)).silu()) + xv
        mseLoss(out, Variable(zeros)).backward()
        for p in [conv1.parameters, norm.parameters, conv2.parameters].joined() { p.grad = nil }
    }
    let manual = agMedianSeconds {
        let (w1, b1, w2, b2) = (conv1.weight.value, conv1.bias!.value, conv2.weight.value, conv2.bias!.value)
        let h1 = Kernels.conv2d(x, weight: w1, bias: b1, padding: (1, 1))
        let gn = Kernels.groupNorm(h1, groups: 8, weight: norm.weight!.value, bias: norm.bias!.value)
        let s = Kernels.silu(gn.output)
        let out = Kernels.add(Kernels.conv2d(s, weight: w2, bias: b2, padding: (1, 1)), x)
        _ = Kernels.mseLoss(out, zeros)
        let g = Kernels.mseLossBackward(out, zeros)
        let ds = Kernels.conv2dBackwardData(g, weight: w2, inputShape: s.shape, padding: (1, 1))
        _ = Kernels.conv2dBackwardWeight(g, input: s, weightShape: w2.shape, padding: (1, 1))
        _ = Kernels.conv2dBackwardBias(g)
        let dn = Kernels.siluBackward(ds, input: gn.output)
        let dg = Kernels.groupNormBackward(dn, input: h1, mean: gn.mean, rstd: gn.rstd, groups: 8,
                                           weight: norm.weight!.value, hasBias: true)
        let dx1 = Kernels.conv2dBackwardData(dg.input, weight: w1, inputShape: x.shape, padding: (1, 1))
        _ = Kernels.conv2dBackwardWeight(dg.input, input: x, weightShape: w1.shape, padding: (1, 1))
        _ = Kernels.conv2dBackwardBias(dg.input)
        _ = Kernels.add(dx1, g)
    }
    agEmit("autograd_resblock_fwd_bwd", [("n", Double(n)), ("c", Double(c)), ("hw", Double(hw)),
        ("ms_autograd", tape * 1e3), ("ms_kernels", manual * 1e3), ("overhead_ratio", tape / manual)])

    let attn = Attention(queryDim: 128, heads: 4, headDim: 32, key: key.fold(in: "attn"))
    let tokens = Init.uniform([8, 64, 128], low: -1, high: 1, key: key.fold(in: "tokens"))
    let t = agMedianSeconds {
        let xv = Variable(tokens, requiresGrad: true)
        attn(xv).squared().mean().backward()
        attn.zeroGrad()
    }
    agEmit("autograd_attention_fwd_bwd", [("b", 8), ("l", 64), ("c", 128), ("heads", 4), ("ms", t * 1e3)])
}
