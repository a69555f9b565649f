import Foundation

/// Holds a process to a fixed share of one core with a cgroup `cpu` quota (v1's `cfs_quota_us`, or v2's
/// `cpu.max`), so that it is slower than its peers by a known factor whatever else the machine is running: a
/// competing busy loop only slows a process while the other cores stay free.
struct CPUQuota {
    let folder: String

    /// Puts `pid` (every thread it has and will start) under the quota, or returns nil where this process may not
    /// make cgroups (not root, or no `cpu` controller).
    init?(pid: Int32, share: Double, name: String) {
        let period = 100_000
        let quota = max(1000, Int(share * Double(period)))
        let v1 = "/sys/fs/cgroup/cpu"
        let v2 = "/sys/fs/cgroup"
        let manager = FileManager.default
        if manager.fileExists(atPath: v1 + "/cpu.cfs_quota_us") {
            folder = "\(v1)/\(name)"
            guard (try? manager.createDirectory(atPath: folder, withIntermediateDirectories: false)) != nil,
                Self.write("\(period)", to: folder + "/cpu.cfs_period_us"),
                Self.write("\(quota)", to: folder + "/cpu.cfs_quota_us")
            else { return nil }
        } else if (try? String(contentsOfFile: v2 + "/cgroup.subtree_control", encoding: .utf8))?.contains("cpu")
            == true
        {
            folder = "\(v2)/\(name)"
            guard (try? manager.createDirectory(atPath: folder, withIntermediateDirectories: false)) != nil,
                Self.write("\(quota) \(period)", to: folder + "/cpu.max")
            else { return nil }
        } else {
            return nil
        }
        guard Self.write("\(pid)", to: folder + "/cgroup.procs") else {
            remove()
            return nil
        }
    }

    /// Removes the cgroup; its processes must have exited.
    func remove() { rmdir(folder) }

    private static func write(_ text: String, to path: String) -> Bool {
        (try? text.write(toFile: path, atomically: false, encoding: .utf8)) != nil
    }
}
