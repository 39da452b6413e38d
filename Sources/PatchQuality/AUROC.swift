/// Area under the ROC curve, by the Mann-Whitney statistic with mid-ranks for ties:
///   AUROC = (sum of the ranks of the positives - P (P + 1) / 2) / (P N)
/// = the probability that a random positive scores higher than a random negative (ties count 1/2).
/// Higher `scores` mean "more likely positive". Returns nil when either class is empty.
public func auroc(scores: [Double], labels: [Bool]) -> Double? {
    precondition(scores.count == labels.count, "auroc: \(scores.count) scores for \(labels.count) labels")
    let p = labels.filter { $0 }.count, n = labels.count - p
    guard p > 0, n > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
        let midRank = Double(i + j) / 2 + 1                      // ranks are 1-based
        for k in i...j where labels[order[k]] { rankSum += midRank }
        i = j + 1
    }
    return (rankSum - Double(p) * Double(p + 1) / 2) / (Double(p) * Double(n))
}
