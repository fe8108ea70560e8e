import Archive
import CMAJSON

/// A skill of a hosted environment, as the API shows it: `{type: "inline", name, description}`.
public struct HostedSkill: Sendable, Equatable {
    public var name: String
    public var description: String

    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }

    public var json: JSONValue { ["type": "inline", "name": .string(name), "description": .string(description)] }

    static func list(_ value: JSONValue?) -> [HostedSkill] {
        (value?.arrayValue ?? []).compactMap { s in
            guard let name = s["name"]?.stringValue else { return nil }
            return HostedSkill(name: name, description: s["description"]?.stringValue ?? "")
        }
    }
}

/// An inline skill's archive, kept with the environment's confidential inputs and unpacked
/// into the sandbox (read-only) when it starts.
public struct SkillArchive: Sendable, Equatable {
    public var name: String
    /// The ZIP, standard base64, as received.
    public var base64: String

    public init(name: String, base64: String) {
        self.name = name
        self.base64 = base64
    }

    /// The archive's files, relative to the skill's directory (a single top-level directory
    /// holding `SKILL.md` is stripped).
    public func files() throws(ZipError) -> [ZipEntry] {
        guard let bytes = Base64.decode(base64) else { throw ZipError("The skill '\(name)' is not valid base64.") }
        return try Skills.unpack(bytes, name: name)
    }
}

public enum Skills {
    /// At most this many skills per environment.
    public static let maxSkills = 32
    /// At most this many bytes of ZIP per skill (the request body limit bounds them too).
    public static let maxArchiveBytes = 6 << 20
    /// Unpacked, at most this many bytes per skill.
    public static let limits = ZipLimits(maxEntries: 1000, maxTotalUncompressed: 32 << 20, maxEntryUncompressed: 16 << 20, maxPathBytes: 512)
    /// Where the sandbox shows them, read-only: `/skills/<name>/SKILL.md`.
    public static let mountPoint = "/skills"
    static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)

    /// The archive's entries with a leading directory that holds `SKILL.md` stripped; throws
    /// when there is no `SKILL.md`.
    static func unpack(_ bytes: [UInt8], name: String) throws(ZipError) -> [ZipEntry] {
        var entries = try ZipArchive.read(bytes, limits: limits)
        if !entries.contains(where: { $0.path == "SKILL.md" && !$0.isDirectory }) {
            let tops = Set(entries.map { $0.path.split(separator: "/", maxSplits: 1).first.map(String.init) ?? "" })
            guard tops.count == 1, let top = tops.first, entries.contains(where: { $0.path == top + "/SKILL.md" && !$0.isDirectory }) else {
                throw ZipError("The skill '\(name)' has no SKILL.md at its root.")
            }
            entries = entries.compactMap { e in
                guard e.path != top else { return nil }
                var e = e
                e.path = String(e.path.dropFirst(top.count + 1))
                return e
            }
        }
        return entries
    }

    /// The `name` and `description` of SKILL.md's front matter (`---` … `---`), if any.
    public static func frontMatter(_ text: String) -> (name: String?, description: String?) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        guard lines.first?.trimmingSpaces == "---" else { return (nil, nil) }
        lines.removeFirst()
        var name: String?
        var description: String?
        for line in lines {
            if line.trimmingSpaces == "---" { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingSpaces
            var value = line[line.index(after: colon)...].trimmingSpaces
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first { value = String(value.dropFirst().dropLast()) }
            if key == "name" { name = value } else if key == "description" { description = value }
        }
        return (name, description)
    }

    /// Parses `skills` of a hosted environment: inline ZIPs, checked whole (a malformed archive,
    /// a path escaping it, links, an oversized archive or a missing SKILL.md are a 400).
    static func parse(_ values: [JSONValue], reader r: JSONReader, key: String) throws(ValidationError) -> [(HostedSkill, SkillArchive)] {
        guard values.count <= maxSkills else { throw .invalid("'\(r.param(key))' can have at most \(maxSkills) skills.", param: r.param(key)) }
        var result: [(HostedSkill, SkillArchive)] = []
        var names = Set<String>()
        for s in try r.objectArray(values, key: key) {
            let type = try s.string("type")
            if type == "skill_reference" {
                throw .notAvailable("Skills by reference (the /v1/skills API) are", param: s.param("type"))
            }
            guard type == "inline" else {
                throw .invalid("Invalid value for '\(s.param("type"))': '\(type.prefix(64))'. Supported values are: 'inline', 'skill_reference'.", param: s.param("type"))
            }
            try s.rejectUnknown(["type", "name", "description", "source"])
            let name = try s.string("name")
            guard !name.isEmpty, name.unicodeScalars.count <= 64, name.unicodeScalars.allSatisfy({ nameCharacters.contains($0) }) else {
                throw .invalid("Invalid '\(s.param("name"))': skill names are 1 to 64 characters of a-z, A-Z, 0-9, '_' or '-'.", param: s.param("name"))
            }
            guard names.insert(name).inserted else { throw .invalid("Duplicate skill name '\(name)'.", param: s.param("name")) }
            let description = try s.string("description")
            guard description.utf8.count <= 4096 else { throw .invalid("'\(s.param("description"))' can be at most 4096 bytes.", param: s.param("description")) }
            let source = try s.object("source")
            try source.rejectUnknown(["type", "media_type", "data"])
            guard try source.string("type") == "base64" else {
                throw .invalid("Invalid value for '\(source.param("type"))'. Supported values are: 'base64'.", param: source.param("type"))
            }
            guard try source.string("media_type") == "application/zip" else {
                throw .invalid("Invalid value for '\(source.param("media_type"))'. Supported values are: 'application/zip'.", param: source.param("media_type"))
            }
            let data = try source.string("data")
            guard let bytes = Base64.decode(data) else {
                throw .invalid("'\(source.param("data"))' must be standard base64.", param: source.param("data"))
            }
            guard bytes.count <= maxArchiveBytes else {
                throw .invalid("The skill archive is \(bytes.count) bytes; at most \(maxArchiveBytes) are allowed.", param: source.param("data"))
            }
            let entries: [ZipEntry]
            do {
                entries = try unpack(bytes, name: name)
            } catch {
                throw .invalid("Invalid skill archive: \(error.message)", param: source.param("data"))
            }
            if let skillMD = entries.first(where: { $0.path == "SKILL.md" }), let declared = frontMatter(String(decoding: skillMD.data, as: UTF8.self)).name,
                declared != name
            {
                throw .invalid("The skill's SKILL.md names it '\(declared.prefix(64))', not '\(name)'.", param: s.param("name"))
            }
            result.append((HostedSkill(name: name, description: description), SkillArchive(name: name, base64: data)))
        }
        return result
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

/// Standard base64 (padded), without Foundation.
public enum Base64 {
    public static func decode(_ text: String) -> [UInt8]? {
        guard HostedEnvironment.base64DecodedLength(text) != nil else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 4 * 3)
        var buffer: UInt32 = 0
        var bits = 0
        for b in text.utf8 {
            let v: UInt32
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(b - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(b - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(b - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: continue  // padding
            }
            buffer = (buffer << 6) | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }
}
