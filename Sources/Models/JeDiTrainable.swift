import NN

/// Which of a JeDi U-Net's weights preference training changes (`[dpo-train] jedi_trainable`).
public enum JeDiTrainable: String, Sendable, CaseIterable {
    /// The coupled self-attention of every transformer block (`...attn1.*`: 6% of the shipped U-Net's weights), the
    /// layers through which a set's members read each other: JeDi's analogue of the adapter's image branch.
    case attention
    /// Every weight of the U-Net.
    case all

    /// Whether the U-Net weight `key` trains.
    public func includes(_ key: String) -> Bool { self == .all || key.contains(".attn1.") }

    /// The weights of `unet` that train, with their keys, in the U-Net's order.
    public func parameters(of unet: UNet2DConditionModel) -> [(String, Parameter)] {
        unet.namedParameters().filter { includes($0.0) }
    }
}
