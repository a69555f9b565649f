import Catalog
import FoundationEssentials

/// The status page as HTML, rendered on the server: no script, no external asset; it reloads itself every
/// `refreshSeconds` with a meta refresh.
public enum PageRenderer {
    public static let refreshSeconds = 30

    /// The whole page.
    public static func page(
        title: String, now: Double, snapshot: StatusSnapshot, ring: RingView, thumbnails: ThumbnailStore?,
        hours: Double, binSeconds: Double
    ) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>\(style)</style></head><body>
            <header><h1>\(escape(title))</h1><p>\(escape(iso(now))) UTC &middot; \(snapshot.labeled) labelled, \
            \(snapshot.pending) pending, \(snapshot.failed) failed &middot; refreshes every \(refreshSeconds) s</p></header>

            """
        html += ringSection(ring, controller: snapshot.controller)
        html += deadlineSection(snapshot.slo, now: now, hours: hours, binSeconds: binSeconds)
        html += latestSection(snapshot.latest, thumbnails: thumbnails)
        html += speciesSection(snapshot)
        html += failureSection(snapshot.failures)
        html += "<footer>trapline &middot; <a href=\"/metrics\">metrics</a></footer></body></html>\n"
        return html
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 12px;color:#1d2521}\
        h1{font-size:20px;margin:12px 0 0}h2{font-size:16px;margin:20px 0 6px;border-bottom:1px solid #ccd}\
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eee}\
        th{background:#f2f4f3}.up{color:#1b7a3a}.down{color:#b3261e}.bypassed{color:#a15c00}\
        .grid{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0;width:200px}\
        figure img{width:200px;height:auto;display:block;background:#ddd}figcaption{font-size:12px}\
        .frame{position:relative}.box{position:absolute;border:2px solid #e8590c;box-sizing:border-box}\
        .muted{color:#667}footer{margin:20px 0;color:#667}svg text{font-size:11px;fill:#333}
        """

    static func ringSection(_ ring: RingView, controller: [StatusSnapshot.ControllerEvent]) -> String {
        var rows = ""
        for node in ring.nodes {
            let stateClass = node.state == "up" ? "up" : node.state == "bypassed" ? "bypassed" : "down"
            let decision = controller.first { $0.node == node.name }
            rows += """
                <tr class="node"><td>\(escape(node.name))</td><td class="\(stateClass)">\(escape(node.state))</td>\
                <td>\(escape(node.units))</td><td>\(node.levels.map { format($0, 2) }.joined(separator: ", "))</td>\
                <td>\(node.meanServiceMs.map { format($0, 1) + " ms" } ?? "&ndash;")</td>\
                <td>\(node.slowdown.map { format($0, 2) + "&times;" } ?? "&ndash;")</td>\
                <td>\(node.temperatureCelsius.map { format($0, 1) + " &deg;C" } ?? "&ndash;")</td>\
                <td>\(node.prepared.map { "\($0)" } ?? "&ndash;")</td>\
                <td>\(decision.map { escape("\($0.kind): \($0.reason)") } ?? escape(node.detail ?? ""))</td></tr>

                """
        }
        var decisions = ""
        for event in controller.prefix(5) {
            decisions += "<li>\(escape(event.at)) \(escape(event.kind))"
            if let node = event.node { decisions += " (\(escape(node)))" }
            if let levels = event.levels { decisions += " levels \(escape(levels))" }
            decisions += ": \(escape(event.reason))</li>"
        }
        return """
            <section id="ring"><h2>Ring</h2>
            <table><thead><tr><th>node</th><th>state</th><th>units</th><th>level per slice</th><th>mean service</th>\
            <th>slowdown</th><th>temperature</th><th>batches prepared</th><th>last decision</th></tr></thead><tbody>
            \(rows)</tbody></table>
            \(decisions.isEmpty ? "<p class=\"muted\">No controller decisions yet.</p>" : "<ul class=\"decisions\">\(decisions)</ul>")
            </section>

            """
    }

    /// Deadline attainment per bin (bars) and mean batch latency (a line), over the last `hours`.
    static func deadlineSection(_ bins: [StatusSnapshot.SLOBin], now: Double, hours: Double, binSeconds: Double)
        -> String
    {
        let width = 1000.0
        let height = 220.0
        let left = 44.0
        let right = 56.0
        let top = 12.0
        let bottom = 28.0
        let start = (now - hours * 3600) / binSeconds
        let count = max(1, Int((hours * 3600 / binSeconds).rounded()))
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let barWidth = plotWidth / Double(count)
        let maxLatency = max(1, bins.map(\.meanLatencyMs).max() ?? 1)
        var svg = """
            <svg id="deadlines" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" \
            width="100%" role="img" aria-label="Deadline attainment and batch latency">
            <rect x="\(left)" y="\(top)" width="\(plotWidth)" height="\(plotHeight)" fill="#fafbfa" stroke="#ccd"/>

            """
        for percent in [0, 50, 100] {
            let y = top + plotHeight * (1 - Double(percent) / 100)
            svg += "<text x=\"\(left - 6)\" y=\"\(format(y + 4, 1))\" text-anchor=\"end\">\(percent)%</text>"
        }
        svg += "<text x=\"\(width - right + 6)\" y=\"\(top + 8)\">\(format(maxLatency / 1000, 1)) s</text>"
        svg += "<text x=\"\(width - right + 6)\" y=\"\(top + plotHeight)\">0 s</text>\n"
        var points: [String] = []
        for bin in bins {
            let index = bin.start / binSeconds - start
            guard index > -1, index < Double(count) else { continue }
            let x = left + max(0, index) * barWidth
            let attainment = bin.batches > 0 ? Double(bin.met) / Double(bin.batches) : 0
            let barHeight = plotHeight * attainment
            let colour = attainment >= 0.95 ? "#5aa469" : attainment >= 0.8 ? "#e0a030" : "#d0453a"
            svg += """
                <rect class="bin" x="\(format(x + 1, 1))" y="\(format(top + plotHeight - barHeight, 1))" \
                width="\(format(max(1, barWidth - 2), 1))" height="\(format(barHeight, 1))" fill="\(colour)">\
                <title>\(escape(iso(bin.start))): \(bin.met)/\(bin.batches) met, mean \(format(bin.meanLatencyMs, 0)) ms, \
                max \(format(bin.maxLatencyMs, 0)) ms</title></rect>

                """
            let y = top + plotHeight * (1 - bin.meanLatencyMs / maxLatency)
            points.append("\(format(x + barWidth / 2, 1)),\(format(y, 1))")
        }
        if !points.isEmpty {
            svg +=
                "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#2c5d8f\" stroke-width=\"2\"/>\n"
        }
        for hour in stride(from: 0.0, through: hours, by: max(1, (hours / 6).rounded())) {
            let x = left + plotWidth * (1 - hour / hours)
            let label = hour == 0 ? "now" : "-\(Int(hour)) h"
            svg += "<text x=\"\(format(x, 1))\" y=\"\(height - 8)\" text-anchor=\"middle\">\(label)</text>"
        }
        svg += "</svg>"
        let batches = bins.reduce(0) { $0 + $1.batches }
        let met = bins.reduce(0) { $0 + $1.met }
        let summary =
            batches == 0
            ? "No batches in the last \(format(hours, 0)) hours."
            : "\(met) of \(batches) batches met their deadline in the last \(format(hours, 0)) hours "
                + "(\(format(100 * Double(met) / Double(batches), 1))%). Bars: share met per "
                + "\(Int(binSeconds / 60)) minutes; line: mean batch latency."
        return "<section id=\"slo\"><h2>Deadlines</h2><p>\(summary)</p>\n\(svg)\n</section>\n"
    }

    static func label(_ observation: StatusSnapshot.Observation) -> String {
        switch observation.observationType {
        case "animal":
            var text = observation.scientificName ?? observation.vernacularName ?? "animal"
            let details = [observation.taxonRank, observation.vernacularName].compactMap { $0 }.filter { $0 != text }
            if !details.isEmpty { text += " (\(details.joined(separator: ", ")))" }
            return text
        case "blank": return "blank"
        default: return observation.observationType + (observation.vernacularName.map { ": \($0)" } ?? "")
        }
    }

    static func latestSection(_ latest: [StatusSnapshot.Observation], thumbnails: ThumbnailStore?) -> String {
        var figures = ""
        for observation in latest {
            let name = observation.mediaID + ".jpg"
            // The thumbnail is the whole upright frame, so the box's fractions place it directly.
            let box =
                observation.box.map { b in
                    "<span class=\"box\" style=\"left:\(format(100 * b[0], 1))%;top:\(format(100 * b[1], 1))%;"
                        + "width:\(format(100 * b[2], 1))%;height:\(format(100 * b[3], 1))%\"></span>"
                } ?? ""
            let image =
                thumbnails?.file(named: name) != nil
                ? "<div class=\"frame\"><img src=\"/thumbnails/\(name)\" alt=\"\(escape(observation.fileName))\">\(box)</div>"
                : "<div class=\"muted\">no thumbnail</div>"
            figures += """
                <figure class="observation">\(image)<figcaption><b class="label">\(escape(label(observation)))</b> \
                \(format(100 * observation.probability, 0))%<br><span class="muted">\(escape(observation.deploymentID)) \
                &middot; \(escape(observation.fileName)) &middot; \(escape(observation.timestamp))</span></figcaption></figure>

                """
        }
        return """
            <section id="latest"><h2>Latest labelled images</h2>
            \(latest.isEmpty ? "<p class=\"muted\">Nothing labelled yet.</p>" : "<div class=\"grid\">\(figures)</div>")
            </section>

            """
    }

    static func speciesSection(_ snapshot: StatusSnapshot) -> String {
        func table(_ counts: [StatusSnapshot.SpeciesCount]) -> String {
            guard !counts.isEmpty else { return "<p class=\"muted\">None.</p>" }
            let rows = counts.map { "<tr><td>\(escape($0.name))</td><td>\($0.images)</td></tr>" }.joined()
            return "<table><thead><tr><th>taxon</th><th>images</th></tr></thead><tbody>\(rows)</tbody></table>"
        }
        var html = "<section id=\"species\"><h2>Animals labelled today (UTC)</h2>\(table(snapshot.speciesToday))\n"
        for deployment in snapshot.speciesByDeployment.keys.sorted() {
            html +=
                "<h2>Deployment \(escape(deployment))</h2>\(table(snapshot.speciesByDeployment[deployment] ?? []))\n"
        }
        return html + "</section>\n"
    }

    static func failureSection(_ failures: [StatusSnapshot.Failure]) -> String {
        guard !failures.isEmpty else {
            return "<section id=\"failures\"><h2>Recent failures</h2><p class=\"muted\">None.</p></section>\n"
        }
        let rows = failures.map {
            "<tr><td>\(escape($0.arrived))</td><td>\(escape($0.fileName))</td><td>\(escape($0.code))</td>"
                + "<td>\(escape($0.error))</td></tr>"
        }.joined()
        return """
            <section id="failures"><h2>Recent failures</h2><table><thead><tr><th>arrived</th><th>file</th>\
            <th>code</th><th>error</th></tr></thead><tbody>\(rows)</tbody></table></section>

            """
    }

    /// Text safe inside HTML elements and quoted attributes.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func format(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "?" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if digits == 0 { return String(Int(rounded)) }
        var text = String(rounded)
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
        }
        return text
    }

    /// The catalog's time format, to the second.
    static func iso(_ seconds: Double) -> String { String(Catalog.iso(seconds).prefix(19)) }
}
