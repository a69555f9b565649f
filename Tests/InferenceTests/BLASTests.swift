import Inference
import Testing

/// OpenBLAS's thread count is one setting for the whole process: the tests that set it run one after another.
@Suite(.serialized) struct BLASTests {
    @Test func multiplyMatchesHandComputedProduct() throws {
        BLAS.setThreadCount(1)
        #expect(BLAS.threadCount == 1)
        // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
        let c = try #require(BLAS.multiply([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], m: 2, n: 2, k: 3))
        #expect(c == [58, 64, 139, 154])
        #expect(BLAS.multiply([1, 2], [3], m: 2, n: 2, k: 3) == nil)
    }

    @Test func twoThreadsGiveTheSameLogits() throws {
        let model = try EngineTests.model()
        let input = EngineTests.input(batch: 2, seed: 3)
        let one = try Engine(model: model, threads: 1).logits(input, batch: 2, level: 1)
        let two = try Engine(model: model, threads: 2).logits(input, batch: 2, level: 1)
        #expect(zip(one, two).map { abs($0 - $1) }.max() ?? 1 <= EngineTests.tolerance(model, one))
        BLASTestsSupport.reset()
    }
}
