/// Parameters and multiply-accumulates of a unit or a slice at one level, counted from the architecture.
public struct ComputeCost: Sendable, Equatable {
    public var parameters: Int
    public var multiplyAdds: Int

    static func + (a: ComputeCost, b: ComputeCost) -> ComputeCost {
        ComputeCost(parameters: a.parameters + b.parameters, multiplyAdds: a.multiplyAdds + b.multiplyAdds)
    }
}

extension ModelMetadata {
    /// The cost of one image through `units` at a level index (the same for every unit).
    /// - Parameters:
    ///   - units: A range of unit indices.
    ///   - level: A level index.
    /// - Returns: Parameters used and multiply-accumulates per image (batch-norm folded, biases counted).
    public func cost(units: Range<Int>, level: Int) -> ComputeCost {
        let shapes = boundaryShapes
        return units.reduce(ComputeCost(parameters: 0, multiplyAdds: 0)) { total, index in
            total + unitCost(index, level: level, input: shapes[index], output: shapes[index + 1])
        }
    }

    /// Parameters and multiply-accumulates per image of a slice over `units` running `option` (a skipped block
    /// costs nothing).
    public func cost(units: Range<Int>, option: Int) -> ComputeCost {
        let shapes = boundaryShapes
        return zip(units, unitLevels(units, option: option)).reduce(ComputeCost(parameters: 0, multiplyAdds: 0)) {
            total, pair in
            let (index, level) = pair
            guard (0..<pruneLevels.count).contains(level) else { return total }  // skipped (or not an option)
            return total + unitCost(index, level: level, input: shapes[index], output: shapes[index + 1])
        }
    }

    private func unitCost(_ index: Int, level: Int, input: ActivationShape, output: ActivationShape) -> ComputeCost {
        let unit = self.units[index]
        let kept = keptChannels[index][level]
        let outPixels = output.height * output.width
        switch unit.kind {
        case .stem:
            let k = unit.kernel ?? 3
            let weights = kept * unit.inChannels * k * k
            return ComputeCost(parameters: weights + kept, multiplyAdds: outPixels * weights)
        case .mbconv:
            let (k, cout) = (unit.kernel ?? 3, unit.outChannels ?? 0)
            let expand = unit.expand == true ? unit.inChannels * kept : 0
            let depthwise = kept * k * k
            let project = kept * cout
            let parameters = expand + depthwise + project + (unit.expand == true ? kept : 0) + kept + cout
            let macs = input.height * input.width * expand + outPixels * (depthwise + project)
            return ComputeCost(parameters: parameters, multiplyAdds: macs)
        case .head:
            let classes = unit.classes ?? 0
            let conv = unit.inChannels * kept
            let fc = kept * classes
            return ComputeCost(
                parameters: conv + kept + fc + classes, multiplyAdds: input.height * input.width * conv + fc
            )
        }
    }
}

extension ModelMetadata {
    /// The products summed, one accumulation per layer, to make one element of the tensor leaving `units`, at
    /// full width (which bounds every pruned level): the length of float32 arithmetic that rounding error
    /// accumulates over, used to derive how far two correct float32 implementations may differ (docs/testing.md).
    /// - Parameter units: A range of unit indices, usually starting at 0.
    /// - Returns: The fan-ins of every convolution, pool and fully connected layer in `units`, summed.
    public func accumulatedFanIn(units: Range<Int>) -> Int {
        let shapes = boundaryShapes
        return units.reduce(0) { total, index in
            let unit = self.units[index]
            let k = unit.kernel ?? 3
            switch unit.kind {
            case .stem:
                return total + unit.inChannels * k * k
            case .mbconv:
                return total + (unit.expand == true ? unit.inChannels : 0) + k * k + (unit.expandedChannels ?? 0)
            case .head:
                let pooled = shapes[index].height * shapes[index].width
                return total + unit.inChannels + pooled + (unit.features ?? 0)
            }
        }
    }
}
