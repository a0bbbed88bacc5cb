/// A labelled train/test split of frozen features, as the evaluations (kNN, linear probe)
/// take it: checked once, sizes named.
struct FeatureSplit {
    let nTrain: Int, nTest: Int, dim: Int

    init(train: Tensor, trainLabels: [Int], test: Tensor, testLabels: [Int]) throws {
        try require(train.dim == 2 && test.dim == 2,
                    "train and test must be 2-d feature matrices, got \(shapeString(train.shape)) and \(shapeString(test.shape))")
        nTrain = train.shape[0]; nTest = test.shape[0]; dim = train.shape[1]
        try require(test.shape[1] == dim, "train features have dimension \(dim) but test features \(test.shape[1])")
        try require(nTrain > 0 && nTest > 0 && dim > 0, "empty features")
        try require(trainLabels.count == nTrain, "\(trainLabels.count) train labels for \(nTrain) train rows")
        try require(testLabels.count == nTest, "\(testLabels.count) test labels for \(nTest) test rows")
        for y in trainLabels + testLabels { try require(y >= 0, "labels must be 1-based positive integers") }
        try requireLapackSize(nTrain, nTest, dim)
    }
}
