import Foundation
import Ring

/// One image's float16 activations for node "b", the second node of a ring whose head is "a": a batch that b
/// accepts, for tests to break one field at a time.
func batchForSecondNode(plan: [Int], width: Int) -> Trapline_Ring_V1_Activations {
    var message = Trapline_Ring_V1_Activations()
    message.batchID = 1
    var hop = Trapline_Ring_V1_Hop()
    hop.node = "b"
    hop.firstUnit = UInt32(plan[1])
    hop.endUnit = UInt32(plan[2])
    message.route = [hop]
    message.unit = UInt32(plan[1])
    message.batch = 1
    message.encoding = .float16
    message.data = Data(count: width * 2)
    message.sliceBounds = plan.map(UInt32.init)
    message.head = "a"
    return message
}
