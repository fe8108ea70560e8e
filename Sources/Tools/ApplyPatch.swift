public import AgentsAPI

/// The `apply_patch` tool: Codex's patch format, applied to the session's workspace.
///
/// ```
/// *** Begin Patch
/// *** Add File: path/new.txt
/// +line
/// *** Update File: path/existing.swift
/// *** Move to: path/renamed.swift
/// @@ optional context header
///  context line
/// -removed line
/// +added line
/// *** End of File
/// *** Delete File: path/old.txt
/// *** End Patch
/// ```
///
/// Every change is checked before any file is written: a hunk that does not match leaves the
/// workspace untouched.
public enum ApplyPatch {
    public static let name = "apply_patch"

    /// The variant for `model`: the freeform (custom) tool for Codex-family models, which are
    /// trained on it; the function variant for every other model.
    public static func definition(forModel model: String) -> JSONValue {
        model.lowercased().contains("codex") ? customDefinition : definition
    }

    /// The freeform variant: the call's input is the patch itself, constrained by a grammar.
    public static let customDefinition: JSONValue = [
        "type": "custom",
        "name": .string(name),
        "description": """
            Edits files with a patch in the apply_patch format: '*** Begin Patch', then file sections             ('*** Add File: <path>' with '+' lines; '*** Delete File: <path>'; '*** Update File: <path>',             optionally '*** Move to: <path>', and '@@' hunks of context ' ', removed '-' and added '+' lines),             then '*** End Patch'. Paths are relative to /workspace.
            """,
        "format": ["type": "grammar", "syntax": "lark", "definition": .string(larkGrammar)],
    ]

    /// The patch format as a Lark grammar (what the model's output is constrained to).
    static let larkGrammar = #"""
        start: begin_patch file_op+ end_patch
        begin_patch: "*** Begin Patch" LF
        end_patch: "*** End Patch" LF?

        file_op: add_file | delete_file | update_file
        add_file: "*** Add File: " path LF added_line+
        delete_file: "*** Delete File: " path LF
        update_file: "*** Update File: " path LF move_to? hunk_body?

        path: /(.+)/
        added_line: "+" /(.*)/ LF
        move_to: "*** Move to: " path LF
        hunk_body: (hunk_header | hunk_line)+ end_of_file?
        hunk_header: ("@@" | "@@ " /(.+)/) LF
        hunk_line: ("+" | "-" | " ") /(.*)/ LF
        end_of_file: "*** End of File" LF

        %import common.LF
        """#

    /// The function variant of the tool (one `input` string), which every model can call.
    public static let definition: JSONValue = [
        "type": "function",
        "name": .string(name),
        "description": """
            Edits files with a patch. `input` is the whole patch: it starts with '*** Begin Patch' and ends with \
            '*** End Patch'. In between, one or more file sections: '*** Add File: <path>' followed by the new \
            lines each prefixed with '+'; '*** Delete File: <path>'; or '*** Update File: <path>' (optionally \
            followed by '*** Move to: <new path>') and hunks, each starting with '@@' (optionally followed by a \
            line to find first), made of context lines (prefixed with a space), removed lines ('-') and added \
            lines ('+'). Give about three lines of context around each change. Paths are relative to /workspace.
            """,
        "parameters": [
            "type": "object",
            "properties": ["input": ["type": "string", "description": "The entire patch."]],
            "required": ["input"],
            "additionalProperties": false,
        ],
        "strict": false,
    ]

    // MARK: Parsing

    public enum Operation: Sendable, Equatable {
        case add(path: String, contents: String)
        case delete(path: String)
        case update(path: String, moveTo: String?, hunks: [Hunk])
    }

    public struct Hunk: Sendable, Equatable {
        public enum Line: Sendable, Equatable {
            case context(String)
            case removed(String)
            case added(String)
        }

        /// The `@@` line's text, a line to find before the hunk (empty when absent).
        public var anchor: String
        public var lines: [Line]
        /// `*** End of File`: the hunk must match at the end of the file.
        public var atEnd: Bool

        /// The lines the file must have (context and removed).
        public var oldLines: [String] {
            lines.compactMap { if case .context(let t) = $0 { return t } else if case .removed(let t) = $0 { return t } else { return nil } }
        }

        public var isEmpty: Bool { lines.isEmpty }
    }

    public static func parse(_ text: String) throws(ToolError) -> [Operation] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        // Tolerate the model wrapping the patch in a heredoc or adding blank lines around it.
        while let last = lines.last, trim(last).isEmpty { lines.removeLast() }
        while let first = lines.first, trim(first).isEmpty { lines.removeFirst() }
        guard lines.first.map(trim) == "*** Begin Patch" else {
            throw ToolError("The patch must start with '*** Begin Patch'.")
        }
        guard lines.last.map(trim) == "*** End Patch" else {
            throw ToolError("The patch must end with '*** End Patch'.")
        }
        var body = Array(lines.dropFirst().dropLast())
        var operations: [Operation] = []
        while !body.isEmpty {
            let header = body.removeFirst()
            if trim(header).isEmpty { continue }
            if let path = value(of: header, after: "*** Add File: ") {
                var contents: [String] = []
                while let line = body.first, !line.hasPrefix("*** ") {
                    body.removeFirst()
                    guard line.hasPrefix("+") else {
                        throw ToolError("In '*** Add File: \(path)', every line must start with '+' (got: \(line.prefix(80)))")
                    }
                    contents.append(String(line.dropFirst()))
                }
                operations.append(.add(path: path, contents: contents.isEmpty ? "" : contents.joined(separator: "\n") + "\n"))
            } else if let path = value(of: header, after: "*** Delete File: ") {
                operations.append(.delete(path: path))
            } else if let path = value(of: header, after: "*** Update File: ") {
                var moveTo: String?
                if let line = body.first, let target = value(of: line, after: "*** Move to: ") {
                    body.removeFirst()
                    moveTo = target
                }
                var hunks: [Hunk] = []
                var current: Hunk?
                while let line = body.first, !isFileHeader(line) {
                    body.removeFirst()
                    if line.hasPrefix("@@") {
                        if let hunk = current, !hunk.isEmpty { hunks.append(hunk) }
                        let anchor = trim(line.dropFirst(2))
                        current = Hunk(anchor: anchor == "@@" ? "" : anchor, lines: [], atEnd: false)
                        continue
                    }
                    if trim(line) == "*** End of File" {
                        current?.atEnd = true
                        continue
                    }
                    if current == nil { current = Hunk(anchor: "", lines: [], atEnd: false) }
                    switch line.first {
                    case " ": current!.lines.append(.context(String(line.dropFirst())))
                    case "-": current!.lines.append(.removed(String(line.dropFirst())))
                    case "+": current!.lines.append(.added(String(line.dropFirst())))
                    case nil:
                        // An empty line inside a hunk is an empty context line.
                        current!.lines.append(.context(""))
                    default:
                        throw ToolError("In '*** Update File: \(path)', unexpected line (lines start with ' ', '-', '+' or '@@'): \(line.prefix(80))")
                    }
                }
                if let hunk = current, !hunk.isEmpty { hunks.append(hunk) }
                guard !hunks.isEmpty || moveTo != nil else { throw ToolError("'*** Update File: \(path)' has no changes.") }
                operations.append(.update(path: path, moveTo: moveTo, hunks: hunks))
            } else {
                throw ToolError("Unexpected line (expected '*** Add File:', '*** Update File:' or '*** Delete File:'): \(header.prefix(80))")
            }
        }
        guard !operations.isEmpty else { throw ToolError("The patch changes nothing.") }
        return operations
    }

    private static func value(of line: String, after prefix: String) -> String? {
        guard line.hasPrefix(prefix) else { return nil }
        let v = trim(line.dropFirst(prefix.count))
        return v.isEmpty ? nil : v
    }

    private static func isFileHeader(_ line: String) -> Bool {
        line.hasPrefix("*** Add File: ") || line.hasPrefix("*** Delete File: ") || line.hasPrefix("*** Update File: ")
    }

    // MARK: Applying

    /// Where a patch reads and writes files (the session's sandbox, or a test double).
    public protocol FileSystem: Sendable {
        /// The file's text, or nil when it does not exist.
        func read(_ path: String) async throws -> String?
        func write(_ path: String, _ contents: String) async throws
        func delete(_ path: String) async throws
    }

    /// Resolves a patch path against the workspace, refusing anything outside it.
    public static func resolve(_ path: String, workdir: String = SandboxPaths.workspace) throws(ToolError) -> String {
        let absolute = path.hasPrefix("/") ? path : workdir + "/" + path
        var parts: [Substring] = []
        for part in absolute.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { throw ToolError("The path \(path) leaves the workspace.") }
                parts.removeLast()
            default: parts.append(part)
            }
        }
        let normalised = "/" + parts.joined(separator: "/")
        guard normalised.hasPrefix(SandboxPaths.workspace + "/"), !normalised.utf8.contains(0) else {
            throw ToolError("The path \(path) is outside /workspace; patches can only change files in the workspace.")
        }
        return normalised
    }

    private enum Step { case write(String, String), delete(String) }

    /// Applies `text` and returns the summary for the model (Codex's format).
    public static func apply(_ text: String, workdir: String = SandboxPaths.workspace, fileSystem fs: some FileSystem) async throws(ToolError) -> String {
        let operations = try parse(text)
        // Plan everything first: a patch that does not apply changes nothing.
        var steps: [Step] = []
        var summary: [String] = []
        var planned: [String: String?] = [:]  // path → contents after the patch so far (nil: deleted)

        func current(_ path: String) async throws(ToolError) -> String? {
            if let p = planned[path] { return p }
            do {
                return try await fs.read(path)
            } catch {
                throw ToolError("Could not read \(path): \(error)")
            }
        }

        for operation in operations {
            switch operation {
            case .add(let path, let contents):
                let target = try resolve(path, workdir: workdir)
                steps.append(.write(target, contents))
                planned[target] = .some(contents)
                summary.append("A \(path)")
            case .delete(let path):
                let target = try resolve(path, workdir: workdir)
                guard try await current(target) != nil else { throw ToolError("Cannot delete \(path): it does not exist.") }
                steps.append(.delete(target))
                planned[target] = .some(nil)
                summary.append("D \(path)")
            case .update(let path, let moveTo, let hunks):
                let source = try resolve(path, workdir: workdir)
                guard let original = try await current(source) else { throw ToolError("Cannot update \(path): it does not exist.") }
                let updated = try applyHunks(hunks, to: original, path: path)
                if let moveTo {
                    let target = try resolve(moveTo, workdir: workdir)
                    steps.append(.write(target, updated))
                    if target != source {
                        steps.append(.delete(source))
                        planned[source] = .some(nil)
                    }
                    planned[target] = .some(updated)
                    summary.append("M \(moveTo)")
                } else {
                    steps.append(.write(source, updated))
                    planned[source] = .some(updated)
                    summary.append("M \(path)")
                }
            }
        }
        for step in steps {
            do {
                switch step {
                case .write(let path, let contents): try await fs.write(path, contents)
                case .delete(let path): try await fs.delete(path)
                }
            } catch {
                throw ToolError("The patch could not be written completely: \(error)")
            }
        }
        return "Success. Updated the following files:\n" + summary.joined(separator: "\n")
    }

    static func applyHunks(_ hunks: [Hunk], to text: String, path: String) throws(ToolError) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { lines.removeLast() }
        var position = 0
        for (n, hunk) in hunks.enumerated() {
            if !hunk.anchor.isEmpty {
                guard let anchor = find([hunk.anchor], in: lines, from: position, atEnd: false) else {
                    throw ToolError("Hunk \(n + 1) of \(path): could not find the line '\(hunk.anchor.prefix(120))'.")
                }
                position = anchor + 1
            }
            let old = hunk.oldLines
            if old.isEmpty {
                // Pure addition: at the anchor, or at the end of the file.
                let added = hunk.lines.compactMap { if case .added(let t) = $0 { return t } else { return nil } }
                let at = hunk.anchor.isEmpty || hunk.atEnd ? lines.count : position
                lines.insert(contentsOf: added, at: at)
                position = at + added.count
                continue
            }
            guard let start = find(old, in: lines, from: position, atEnd: hunk.atEnd) else {
                let expected = old.prefix(8).map { "  \($0)" }.joined(separator: "\n")
                throw ToolError("Hunk \(n + 1) of \(path) does not match the file. Expected these lines (in order):\n\(expected)\nRead the file again and make the context lines exact.")
            }
            // Context lines keep the file's own text (they may have matched up to whitespace).
            var replacement: [String] = []
            var cursor = start
            for line in hunk.lines {
                switch line {
                case .context:
                    replacement.append(lines[cursor])
                    cursor += 1
                case .removed:
                    cursor += 1
                case .added(let text):
                    replacement.append(text)
                }
            }
            lines.replaceSubrange(start..<start + old.count, with: replacement)
            position = start + replacement.count
        }
        // Files the patch writes end with a newline.
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// Finds `pattern` in `lines` at or after `start`: exactly, then ignoring trailing
    /// whitespace, then ignoring surrounding whitespace (as Codex does).
    static func find(_ pattern: [String], in lines: [String], from start: Int, atEnd: Bool) -> Int? {
        guard pattern.count <= lines.count else { return nil }
        let candidates: [Int] = atEnd ? [lines.count - pattern.count] : Array(max(0, start)...max(max(0, start), lines.count - pattern.count))
        let normalisers: [(String) -> String] = [{ $0 }, trimTrailing, { trim($0) }]
        for normalise in normalisers {
            let wanted = pattern.map(normalise)
            for i in candidates where i >= 0 && i + pattern.count <= lines.count {
                if (0..<pattern.count).allSatisfy({ normalise(lines[i + $0]) == wanted[$0] }) { return i }
            }
        }
        return nil
    }
}

/// Without surrounding spaces and tabs.
private func trim(_ s: some StringProtocol) -> String {
    String(s.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
}

/// Without trailing spaces and tabs.
private func trimTrailing(_ s: String) -> String {
    String(s.reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
}
