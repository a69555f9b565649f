extension Engine {
    func runUnit(
        _ index: Int, level: Int, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>,
        batch: Int,
        features: UnsafeMutablePointer<Float>? = nil
    ) {
        let (input, output) = (shapes[index], shapes[index + 1])
        if level == model.metadata.skipLevel {
            // A skipped residual block is the identity (validated: input and output shapes are equal).
            destination.update(from: source, count: batch * input.count)
            return
        }
        let perImage = Workspace.scratchPerImage(model, index, shapes)
        let chunk = Workspace.chunk(batch: batch, perImage: max(perImage.a, perImage.b))
        var first = 0
        while first < batch {
            let images = min(chunk, batch - first)
            let chunkSource = source + first * input.count
            let chunkDestination = destination + first * output.count
            switch model.units[index] {
            case .stem(let kernel, let stride, let levels):
                runStem(
                    levels[level], kernel: kernel, stride: stride, chunkSource, chunkDestination, images, input, output)
            case .block(let residual, let levels):
                runBlock(levels[level], residual: residual, chunkSource, chunkDestination, images, input, output)
            case .head(let levels):
                runHead(
                    levels[level], chunkSource, chunkDestination, images, input,
                    features: features.map { $0 + first * featureCount })
            }
            first += images
        }
    }

    private func runStem(
        _ weights: PointwiseWeights, kernel: Int, stride: Int, _ source: UnsafePointer<Float>,
        _ destination: UnsafeMutablePointer<Float>, _ images: Int, _ input: ActivationShape, _ output: ActivationShape
    ) {
        let columns = workspace.scratchA.baseAddress!
        Im2col.run(
            source, images: images, height: input.height, width: input.width, channels: input.channels, kernel: kernel,
            stride: stride, into: columns
        )
        Pointwise.run(
            columns, rows: images * output.height * output.width, weights, into: destination, epilogue: .relu6,
            threads: threads)
    }

    private func runBlock(
        _ weights: BlockLevel, residual: Bool, _ source: UnsafePointer<Float>,
        _ destination: UnsafeMutablePointer<Float>,
        _ images: Int, _ input: ActivationShape, _ output: ActivationShape
    ) {
        var depthwiseInput = source
        if let expand = weights.expand {
            let expanded = workspace.scratchA.baseAddress!
            Pointwise.run(
                source, rows: images * input.height * input.width, expand, into: expanded, epilogue: .relu6,
                threads: threads)
            depthwiseInput = UnsafePointer(expanded)
        }
        let filtered = workspace.scratchB.baseAddress!
        let layer = weights.depthwise
        let shape = DepthwiseShape(
            images: images, height: input.height, width: input.width,
            rows: SamePadding(input: input.height, kernel: layer.kernel, stride: layer.stride),
            columns: SamePadding(input: input.width, kernel: layer.kernel, stride: layer.stride)
        )
        depthwise(depthwiseInput, shape, layer, into: filtered)
        let rows = images * output.height * output.width
        Pointwise.run(
            filtered, rows: rows, weights.project, into: destination, epilogue: residual ? .residual(source) : .linear,
            threads: threads)
    }

    private func depthwise(
        _ input: UnsafePointer<Float>, _ shape: DepthwiseShape, _ layer: DepthwiseWeights,
        into output: UnsafeMutablePointer<Float>
    ) {
        let rows = shape.images * shape.rows.output
        layer.weights.withUnsafeBufferPointer { weights in
            layer.bias.withUnsafeBufferPointer { bias in
                let (w, b) = (weights.baseAddress!, bias.baseAddress!)
                // Each part writes its own output rows and only reads shared inputs: safe to run in parallel.
                let job = DepthwiseJob(input: input, weights: w, bias: b, output: output, shape: shape, layer: layer)
                RowSplit.run(rows: rows, parts: threads > 1 && rows >= 2 * threads ? threads : 1) { job.run(rows: $0) }
            }
        }
    }

    private func runHead(
        _ weights: HeadLevel, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, _ images: Int,
        _ input: ActivationShape, features pooledOut: UnsafeMutablePointer<Float>?
    ) {
        let features = workspace.scratchA.baseAddress!
        let pixels = input.height * input.width
        Pointwise.run(source, rows: images * pixels, weights.conv, into: features, epilogue: .relu6, threads: threads)
        let pooled = workspace.scratchB.baseAddress!
        Pooling.average(features, images: images, pixels: pixels, channels: weights.conv.outChannels, into: pooled)
        Pointwise.run(pooled, rows: images, weights.classifier, into: destination, epilogue: .linear)
        if let features = pooledOut {
            let (kept, width) = (weights.conv.outChannels, featureCount)
            for image in 0..<images {
                let row = features + image * width
                row.update(from: pooled + image * kept, count: kept)
                row.advanced(by: kept).update(repeating: 0, count: width - kept)
            }
        }
    }
}

/// The pointers of one depthwise pass, handed to worker threads that write disjoint output rows.
private struct DepthwiseJob: @unchecked Sendable {
    let input: UnsafePointer<Float>
    let weights: UnsafePointer<Float>
    let bias: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let shape: DepthwiseShape
    let layer: DepthwiseWeights

    func run(rows: Range<Int>) {
        Depthwise.run(input, shape, layer, weights: weights, bias: bias, into: output, rowRange: rows)
    }
}
