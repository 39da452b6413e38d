import Autograd
import NN
import Random
import TensorCore

/// What the adapter's resampler reads of a reference image: tokens [B, N, tokenWidth] of images
/// [B, 3, imageSize, imageSize] in [-1, 1] (IP-Adapter-Plus reads the image tower's patch tokens).
public protocol ReferenceEncoder: Module {
    var imageSize: Int { get }
    var tokenWidth: Int { get }
    func tokens(_ images: Variable) -> Variable
}

/// The CLIP vision tower read at block `layer` (class token included): IP-Adapter-Plus's
/// `hidden_states[-2]`. Its parameters are the ViT's, under the ViT's own keys.
public final class ViTReferenceEncoder: ReferenceEncoder {
    public let vit: ViT
    public let layer: Int

    public init(vit: ViT, layer: Int) {
        precondition((1...vit.config.depth).contains(layer), "ViTReferenceEncoder: layer \(layer) outside 1...\(vit.config.depth)")
        self.vit = vit; self.layer = layer
    }

    public var children: [(String, any Module)] { vit.children }
    public var directParameters: [(String, Parameter)] { vit.directParameters }
    public var imageSize: Int { vit.config.imageSize }
    public var tokenWidth: Int { vit.config.width }

    public func tokens(_ images: Variable) -> Variable { vit.forward(images, taps: [layer]).taps[layer]! }
}

/// A convolutional reference tower (the "CLIP ResNet" route, trained with the adapter): a
/// `ResNet` whose last feature map [B, C, s, s] becomes s*s tokens of width C, plus a learned position
/// embedding so the resampler knows where on the object a feature sits (CNN maps carry little absolute
/// position). Keys: `backbone.*` (the ResNet's), `position_embedding` [s*s, C] (zeros at init).
/// On these 2 cores a CNN learns this world's categories in minutes where a ViT of this size stays at
/// chance (the judges issue's measurement), which is why the adapter can train its own.
public final class ConvReferenceEncoder: ReferenceEncoder {
    public let backbone: ResNet
    public let positionEmbedding: Parameter

    public init(config: ResNetConfig, key: RNGKey) throws(EncoderError) {
        backbone = try ResNet(config: config, key: key.fold(in: "backbone"))
        let n = config.featureSide * config.featureSide
        positionEmbedding = Parameter(Tensor(zeros: [n, config.featureWidth]), requiresGrad: true)
    }

    public var config: ResNetConfig { backbone.config }
    public var children: [(String, any Module)] { [("backbone", backbone)] }
    public var directParameters: [(String, Parameter)] { [("position_embedding", positionEmbedding)] }
    public var imageSize: Int { config.imageSize }
    public var tokenWidth: Int { config.featureWidth }
    public var tokenCount: Int { config.featureSide * config.featureSide }

    public func tokens(_ images: Variable) -> Variable {
        let f = backbone.features(images)                        // [B, C, s, s]
        let b = f.shape[0], c = f.shape[1], n = f.shape[2] * f.shape[3]
        let t = f.reshaped([b, c, n]).transposed(1, 2)            // [B, s*s, C]
        return t + positionEmbedding.reshaped([1, n, c])
    }
}
