import Inference
import Testing

@Suite struct BLASTests {
    @Test func multiplyMatchesHandComputedProduct() throws {
        BLAS.setThreadCount(1)
        #expect(BLAS.threadCount == 1)
        // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
        let c = try #require(BLAS.multiply([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], m: 2, n: 2, k: 3))
        #expect(c == [58, 64, 139, 154])
        #expect(BLAS.multiply([1, 2], [3], m: 2, n: 2, k: 3) == nil)
    }
}
