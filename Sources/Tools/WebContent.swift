import CMAJSON

// The network-free parts of the web tool: HTML to readable text, paging and searching a page's
// text, SearXNG requests and results, and domain allow-list matching. Nothing here does I/O; the
// fetching, the egress policy and the tool wiring live elsewhere.

// MARK: - Page text

/// A link of a page: its text, and its `href` as written (relative or absolute; the caller
/// resolves it against the page's URL).
public struct PageLink: Sendable, Equatable, Hashable {
    public var text: String
    public var url: String

    public init(text: String, url: String) {
        self.text = text
        self.url = url
    }
}

/// The readable content of a fetched page.
public struct ExtractedPage: Sendable, Equatable {
    public var title: String?
    public var text: String
    public var links: [PageLink]

    public init(title: String?, text: String, links: [PageLink]) {
        self.title = title
        self.text = text
        self.links = links
    }
}

/// Reduces an HTML document to text for a model: scripts, styles and other non-content are dropped,
/// block elements become line breaks, headings `#` lines, list items `- ` lines; whitespace
/// collapses except in `<pre>`; entities are decoded; links are collected.
///
/// A hand-written tokenizer after the HTML standard's, simplified: linear in the input, and it
/// never traps on malformed input (unclosed tags, quotes and comments are recovered from).
public enum HTMLText {
    /// Input beyond this many bytes is ignored.
    public static let maxInputBytes = 8 * 1024 * 1024
    /// A link's text is cut to this many bytes.
    static let maxLinkTextBytes = 300
    static let maxTitleBytes = 1000

    public static func extract(_ html: [UInt8], contentType: String?) -> ExtractedPage {
        let input = html.count > maxInputBytes ? Array(html[..<maxInputBytes]) : html
        let media = MediaType(contentType)
        let isHTML = media.isHTML ?? looksLikeHTML(input)
        var charset = Charset(label: media.charset)
        if input.starts(with: [0xEF, 0xBB, 0xBF]) {
            charset = .utf8
        } else if charset == nil && isHTML {
            charset = Charset(label: metaCharset(input))
        }
        let decoded = decode(input, as: charset ?? .utf8)
        guard isHTML else {
            return ExtractedPage(title: nil, text: normalizingNewlines(decoded), links: [])
        }
        var extractor = HTMLExtractor(decoded)
        return extractor.run()
    }

    /// A fragment's text: tags removed, entities decoded, whitespace collapsed to single spaces.
    /// Unlike `extract`, no element's content is dropped (for search-result titles and snippets).
    static func plainText(fromFragment fragment: String) -> String {
        let b = Array(fragment.utf8)
        let n = b.count
        var w = TextWriter()
        var i = 0
        while i < n {
            if b[i] == ascii("<"), let end = fragmentTagEnd(b, i) {
                if matchesLowercase(b, i + 1, "br") { w.space() }
                i = end
                continue
            }
            var j = i + 1
            while j < n && b[j] != ascii("<") { j += 1 }
            writeText(b, i, j, into: &w)
            i = j
        }
        return w.finish()
    }

    /// Where a tag-looking construct starting at `i` ends (after its `>`), or nil if the `<` is text.
    private static func fragmentTagEnd(_ b: [UInt8], _ i: Int) -> Int? {
        var j = i + 1
        guard j < b.count else { return nil }
        if b[j] == ascii("/") || b[j] == ascii("!") { j += 1 }
        guard j < b.count, isASCIILetter(b[j]) || b[j - 1] == ascii("!") else { return nil }
        while j < b.count {
            if b[j] == ascii(">") { return j + 1 }
            if b[j] == ascii("<") { return nil }
            j += 1
        }
        return nil
    }

    // MARK: Content type and charset

    struct MediaType {
        /// nil when there is no (usable) type: the body is sniffed.
        var isHTML: Bool?
        var charset: String?

        init(_ contentType: String?) {
            guard let contentType else { return }
            var parts = contentType.split(separator: ";", omittingEmptySubsequences: false).makeIterator()
            let mime = trimmedASCII(String(parts.next() ?? "")).lowercased()
            if !mime.isEmpty {
                isHTML = mime == "text/html" || mime == "application/xhtml+xml" || mime.hasSuffix("+html")
            }
            while let part = parts.next() {
                guard let eq = part.firstIndex(of: "=") else { continue }
                guard trimmedASCII(String(part[..<eq])).lowercased() == "charset" else { continue }
                var value = trimmedASCII(String(part[part.index(after: eq)...]))
                if value.count >= 2, let f = value.first, f == "\"" || f == "'", value.last == f {
                    value = String(value.dropFirst().dropLast())
                }
                charset = value
            }
        }
    }

    enum Charset {
        case utf8, windows1252, latin9

        init?(label: String?) {
            guard let label else { return nil }
            switch trimmedASCII(label).lowercased() {
            case "utf-8", "utf8", "unicode-1-1-utf-8":
                self = .utf8
            case "iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "iso-ir-100", "latin1", "l1",
                "csisolatin1", "cp819", "ibm819", "windows-1252", "cp1252", "x-cp1252", "us-ascii", "ascii",
                "ansi_x3.4-1968":
                self = .windows1252
            case "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "latin9", "latin-9", "l9", "csisolatin9":
                self = .latin9
            default:
                return nil
            }
        }
    }

    /// Whether an untyped body looks like markup: its first non-blank character is `<`.
    static func looksLikeHTML(_ b: [UInt8]) -> Bool {
        var i = b.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while i < b.count, isHTMLSpace(b[i]) { i += 1 }
        return i < b.count && b[i] == ascii("<")
    }

    /// The charset named by a `<meta charset>` or `<meta http-equiv=Content-Type content=…>` in the
    /// document's first 4 KiB.
    static func metaCharset(_ b: [UInt8]) -> String? {
        let end = min(b.count, 4096)
        var i = 0
        while i + 5 < end {
            defer { i += 1 }
            guard b[i] == ascii("<"), matchesLowercase(b, i + 1, "meta") else { continue }
            var j = i + 5
            var tagEnd = j
            while tagEnd < end && b[tagEnd] != ascii(">") { tagEnd += 1 }
            while j + 7 <= tagEnd {
                if matchesLowercase(b, j, "charset") {
                    var k = j + 7
                    while k < tagEnd && isHTMLSpace(b[k]) { k += 1 }
                    if k < tagEnd && b[k] == ascii("=") {
                        k += 1
                        while k < tagEnd && (isHTMLSpace(b[k]) || b[k] == ascii("\"") || b[k] == ascii("'")) { k += 1 }
                        var e = k
                        while e < tagEnd, !isHTMLSpace(b[e]), b[e] != ascii("\""), b[e] != ascii("'"), b[e] != ascii(";"),
                            b[e] != ascii("/")
                        {
                            e += 1
                        }
                        if e > k { return String(decoding: b[k..<e], as: UTF8.self) }
                    }
                }
                j += 1
            }
            i = tagEnd
        }
        return nil
    }

    /// The body as valid UTF-8 (invalid sequences replaced by U+FFFD), without a byte-order mark.
    static func decode(_ b: [UInt8], as charset: Charset) -> [UInt8] {
        switch charset {
        case .utf8:
            let body = b.starts(with: [0xEF, 0xBB, 0xBF]) ? b[3...] : b[...]
            return Array(String(decoding: body, as: UTF8.self).utf8)
        case .windows1252, .latin9:
            var out: [UInt8] = []
            out.reserveCapacity(b.count + b.count / 8)
            for byte in b {
                if byte < 0x80 {
                    out.append(byte)
                    continue
                }
                var value = UInt32(byte)
                if charset == .latin9, let replaced = latin9Differences[byte] {
                    value = replaced
                } else if byte < 0xA0 {
                    value = windows1252C1[Int(byte - 0x80)]
                }
                UTF8.encode(Unicode.Scalar(value) ?? "\u{FFFD}") { out.append($0) }
            }
            return out
        }
    }

    /// windows-1252's characters for 0x80–0x9F (the five undefined ones keep their C1 values, as
    /// the Encoding standard says).
    static let windows1252C1: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    static let latin9Differences: [UInt8: UInt32] = [
        0xA4: 0x20AC, 0xA6: 0x0160, 0xA8: 0x0161, 0xB4: 0x017D, 0xB8: 0x017E, 0xBC: 0x0152, 0xBD: 0x0153, 0xBE: 0x0178,
    ]

    static func normalizingNewlines(_ b: [UInt8]) -> String {
        guard b.contains(ascii("\r")) else { return String(decoding: b, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == ascii("\r") {
                out.append(ascii("\n"))
                if i + 1 < b.count && b[i + 1] == ascii("\n") { i += 1 }
            } else {
                out.append(b[i])
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Entities

    /// Decodes the character reference at `b[i]` (an `&`), looking no further than `end`.
    /// Returns the character and the index after the reference, or nil if it is not one.
    /// In attribute values a named reference without `;` followed by `=` stays literal, as the
    /// standard says (`?a=1&copy=2`).
    static func decodeEntity(_ b: [UInt8], _ i: Int, end: Int, inAttribute: Bool = false) -> (Unicode.Scalar, Int)? {
        var j = i + 1
        guard j < end else { return nil }
        if b[j] == ascii("#") {
            j += 1
            var radix: UInt32 = 10
            if j < end && (b[j] == ascii("x") || b[j] == ascii("X")) {
                radix = 16
                j += 1
            }
            let digitsStart = j
            var value: UInt32 = 0
            while j < end, let digit = digitValue(b[j], radix: radix) {
                if value <= 0x10FFFF { value = value * radix + digit }
                j += 1
            }
            guard j > digitsStart else { return nil }
            if j < end && b[j] == ascii(";") { j += 1 }
            return (numericCharacter(value), j)
        }
        let nameStart = j
        while j < end && j - nameStart <= 32 && isASCIIAlphanumeric(b[j]) { j += 1 }
        guard j > nameStart, j - nameStart <= 32 else { return nil }
        let hasSemicolon = j < end && b[j] == ascii(";")
        if inAttribute && !hasSemicolon && j < end && b[j] == ascii("=") { return nil }
        guard let scalar = namedEntities[String(decoding: b[nameStart..<j], as: UTF8.self)] else { return nil }
        return (scalar, hasSemicolon ? j + 1 : j)
    }

    static func numericCharacter(_ value: UInt32) -> Unicode.Scalar {
        switch value {
        case 0, 0xD800...0xDFFF, 0x110000...: return "\u{FFFD}"
        case 0x80...0x9F: return Unicode.Scalar(windows1252C1[Int(value - 0x80)]) ?? "\u{FFFD}"
        default: return Unicode.Scalar(value) ?? "\u{FFFD}"
        }
    }

    static let namedEntities: [String: Unicode.Scalar] = [
        "amp": "&", "AMP": "&", "lt": "<", "LT": "<", "gt": ">", "GT": ">", "quot": "\"", "QUOT": "\"", "apos": "'",
        "nbsp": "\u{A0}", "ensp": "\u{2002}", "emsp": "\u{2003}", "thinsp": "\u{2009}", "zwsp": "\u{200B}",
        "zwnj": "\u{200C}", "zwj": "\u{200D}", "shy": "\u{AD}", "lrm": "\u{200E}", "rlm": "\u{200F}",
        "copy": "©", "COPY": "©", "reg": "®", "REG": "®", "trade": "™", "mdash": "—", "ndash": "–", "hellip": "…",
        "lsquo": "‘", "rsquo": "’", "sbquo": "‚", "ldquo": "“", "rdquo": "”", "bdquo": "„", "laquo": "«", "raquo": "»",
        "lsaquo": "‹", "rsaquo": "›", "prime": "′", "Prime": "″", "bull": "•", "middot": "·", "dagger": "†",
        "Dagger": "‡", "permil": "‰", "sect": "§", "para": "¶", "deg": "°", "plusmn": "±", "times": "×", "divide": "÷",
        "minus": "−", "le": "≤", "ge": "≥", "ne": "≠", "asymp": "≈", "equiv": "≡", "infin": "∞", "sum": "∑", "prod": "∏",
        "radic": "√", "micro": "µ", "frac12": "½", "frac14": "¼", "frac34": "¾", "sup1": "¹", "sup2": "²", "sup3": "³",
        "ordf": "ª", "ordm": "º", "not": "¬", "cent": "¢", "pound": "£", "euro": "€", "yen": "¥", "curren": "¤",
        "iexcl": "¡", "iquest": "¿", "brvbar": "¦", "uml": "¨", "acute": "´", "cedil": "¸", "macr": "¯",
        "larr": "←", "rarr": "→", "uarr": "↑", "darr": "↓", "harr": "↔", "lArr": "⇐", "rArr": "⇒", "hArr": "⇔",
        "check": "✓", "star": "☆", "hearts": "♥", "loz": "◊", "nbhy": "\u{2011}",
        "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ",
        "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "omicron": "ο", "pi": "π",
        "rho": "ρ", "sigma": "σ", "sigmaf": "ς", "tau": "τ", "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ",
        "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ",
        "Psi": "Ψ", "Omega": "Ω",
        "Agrave": "À", "Aacute": "Á", "Acirc": "Â", "Atilde": "Ã", "Auml": "Ä", "Aring": "Å", "AElig": "Æ",
        "Ccedil": "Ç", "Egrave": "È", "Eacute": "É", "Ecirc": "Ê", "Euml": "Ë", "Igrave": "Ì", "Iacute": "Í",
        "Icirc": "Î", "Iuml": "Ï", "ETH": "Ð", "Ntilde": "Ñ", "Ograve": "Ò", "Oacute": "Ó", "Ocirc": "Ô",
        "Otilde": "Õ", "Ouml": "Ö", "Oslash": "Ø", "Ugrave": "Ù", "Uacute": "Ú", "Ucirc": "Û", "Uuml": "Ü",
        "Yacute": "Ý", "THORN": "Þ", "szlig": "ß", "agrave": "à", "aacute": "á", "acirc": "â", "atilde": "ã",
        "auml": "ä", "aring": "å", "aelig": "æ", "ccedil": "ç", "egrave": "è", "eacute": "é", "ecirc": "ê",
        "euml": "ë", "igrave": "ì", "iacute": "í", "icirc": "î", "iuml": "ï", "eth": "ð", "ntilde": "ñ",
        "ograve": "ò", "oacute": "ó", "ocirc": "ô", "otilde": "õ", "ouml": "ö", "oslash": "ø", "ugrave": "ù",
        "uacute": "ú", "ucirc": "û", "uuml": "ü", "yacute": "ý", "thorn": "þ", "yuml": "ÿ", "Yuml": "Ÿ",
        "OElig": "Œ", "oelig": "œ", "Scaron": "Š", "scaron": "š", "fnof": "ƒ", "circ": "ˆ", "tilde": "˜",
    ]

    /// Writes `b[lo..<hi]` as text, decoding character references.
    static func writeText(_ b: [UInt8], _ lo: Int, _ hi: Int, into w: inout TextWriter) {
        var i = lo
        while i < hi {
            if b[i] == ascii("&") {
                if let (scalar, next) = decodeEntity(b, i, end: hi) {
                    w.scalar(scalar)
                    i = next
                } else {
                    w.text(b, i, i + 1)
                    i += 1
                }
                continue
            }
            var j = i + 1
            while j < hi && b[j] != ascii("&") { j += 1 }
            w.text(b, i, j)
            i = j
        }
    }

    /// An attribute value with its character references decoded.
    static func attributeValue(_ b: [UInt8], _ lo: Int, _ hi: Int) -> String {
        guard b[lo..<hi].contains(ascii("&")) else { return String(decoding: b[lo..<hi], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(hi - lo)
        var i = lo
        while i < hi {
            if b[i] == ascii("&"), let (scalar, next) = decodeEntity(b, i, end: hi, inAttribute: true) {
                UTF8.encode(scalar) { out.append($0) }
                i = next
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Builds the text of a page: collapses whitespace, turns requested breaks into at most one blank
/// line, writes line prefixes (`# `, `- `) before a line's first content, and trims.
struct TextWriter {
    enum PrefixOwner { case none, heading, listItem }

    private(set) var out: [UInt8] = []
    /// How many `\n` end `out` (0: the current line has content, or nothing was written yet).
    private var trailingNewlines = 0
    /// How many `\n` the next content wants before it (1: a new line, 2: a blank line before it).
    private var pendingBreaks = 0
    private var pendingSpace = false
    private var pendingCellSeparator = false
    private var prefix: [UInt8] = []
    private var prefixOwner = PrefixOwner.none
    var preformatted = false

    /// The text of the open link, if any.
    private var linkText: [UInt8]?
    private var linkNeedsSpace = false

    private var atLineStart: Bool { out.isEmpty || trailingNewlines > 0 }

    /// Ends the current line; `2` also leaves a blank line.
    mutating func block(_ breaks: Int) {
        pendingBreaks = max(pendingBreaks, breaks)
        pendingCellSeparator = false
        linkNeedsSpace = true
    }

    /// A `<br>`: a line break, or an empty line when already at the start of one.
    mutating func lineBreak() {
        let current = atLineStart ? trailingNewlines : 0
        pendingBreaks = min(2, max(pendingBreaks, current) + 1)
        pendingCellSeparator = false
        linkNeedsSpace = true
    }

    /// A table cell: separated from earlier content on the same line by ` | `.
    mutating func cell() {
        if pendingBreaks == 0 && !atLineStart { pendingCellSeparator = true }
        linkNeedsSpace = true
    }

    mutating func space() {
        pendingSpace = true
        linkNeedsSpace = true
    }

    mutating func setPrefix(_ bytes: [UInt8], owner: PrefixOwner) {
        prefix = bytes
        prefixOwner = owner
    }

    mutating func clearPrefix(_ owner: PrefixOwner) {
        if prefixOwner == owner {
            prefix = []
            prefixOwner = .none
        }
    }

    mutating func openLink() {
        linkText = []
        linkNeedsSpace = false
    }

    /// Ends the open link, returning its text (whitespace collapsed, cut to `maxLinkTextBytes`).
    mutating func closeLink() -> String? {
        guard var text = linkText else { return nil }
        linkText = nil
        if text.count > HTMLText.maxLinkTextBytes {
            var cut = HTMLText.maxLinkTextBytes
            while cut > 0 && text[cut] & 0xC0 == 0x80 { cut -= 1 }
            text.removeSubrange(cut...)
            text.append(contentsOf: [0xE2, 0x80, 0xA6])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Text from the document (valid UTF-8, never split inside a character).
    mutating func text(_ b: [UInt8], _ lo: Int, _ hi: Int) {
        var k = lo
        if preformatted {
            while k < hi {
                let c = b[k]
                k += 1
                switch c {
                case ascii("\r"):
                    if k < hi && b[k] == ascii("\n") { continue }
                    newline()
                case ascii("\n"):
                    newline()
                case ascii("\t"):
                    content(c)
                case 0..<0x20, 0x7F:
                    continue
                case 0xC2 where k < hi && (b[k] == 0xA0 || b[k] == 0xAD):
                    if b[k] == 0xA0 { content(ascii(" ")) }
                    k += 1
                default:
                    content(c)
                }
            }
            return
        }
        while k < hi {
            let c = b[k]
            k += 1
            if c <= 0x20 {
                if c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D || c == 0x0C {
                    pendingSpace = true
                    linkNeedsSpace = true
                }
                continue
            }
            if c == 0xC2 && k < hi && (b[k] == 0xA0 || b[k] == 0xAD) {
                if b[k] == 0xA0 {
                    pendingSpace = true
                    linkNeedsSpace = true
                }
                k += 1
                continue
            }
            if c == 0x7F { continue }
            content(c)
        }
    }

    /// One decoded character reference.
    mutating func scalar(_ s: Unicode.Scalar) {
        switch s.value {
        case 0x0A, 0x0D:
            if preformatted { newline() } else { space() }
        case 0x09, 0x20, 0x0C, 0xA0:
            if preformatted { content(ascii(" ")) } else { space() }
        case 0..<0x20, 0x7F, 0xAD:
            break
        case 0x21..<0x80:
            content(UInt8(s.value))
        default:
            UTF8.encode(s) { content($0) }
        }
    }

    @inline(__always)
    private mutating func content(_ c: UInt8) {
        if pendingBreaks > 0 || pendingSpace || pendingCellSeparator || trailingNewlines > 0 || !prefix.isEmpty {
            prepareForContent()
        }
        out.append(c)
        if linkText != nil {
            if linkNeedsSpace {
                if linkText?.isEmpty == false { linkText?.append(ascii(" ")) }
                linkNeedsSpace = false
            }
            if linkText!.count <= HTMLText.maxLinkTextBytes { linkText!.append(c) }
        }
    }

    /// Writes the line breaks requested before the next content.
    private mutating func flushBreaks() {
        if pendingBreaks > 0 {
            trimTrailingBlanks()
            while !out.isEmpty && trailingNewlines < pendingBreaks {
                out.append(ascii("\n"))
                trailingNewlines += 1
            }
            pendingSpace = false
            pendingCellSeparator = false
        }
        pendingBreaks = 0
    }

    private mutating func prepareForContent() {
        flushBreaks()
        if !prefix.isEmpty {
            if !atLineStart { out.append(ascii("\n")) }
            out.append(contentsOf: prefix)
            prefix = []
            prefixOwner = .none
        } else if pendingCellSeparator && !atLineStart {
            out.append(contentsOf: [ascii(" "), ascii("|"), ascii(" ")])
        } else if pendingSpace && !atLineStart {
            out.append(ascii(" "))
        }
        pendingSpace = false
        pendingCellSeparator = false
        trailingNewlines = 0
    }

    /// A newline in preformatted text.
    private mutating func newline() {
        flushBreaks()
        pendingSpace = false
        pendingCellSeparator = false
        linkNeedsSpace = true
        trimTrailingBlanks()
        guard !out.isEmpty else { return }
        if trailingNewlines < 2 {
            out.append(ascii("\n"))
            trailingNewlines += 1
        }
    }

    private mutating func trimTrailingBlanks() {
        guard let last = out.last, last == ascii(" ") || last == ascii("\t") else { return }
        while let last = out.last, last == ascii(" ") || last == ascii("\t") { out.removeLast() }
        trailingNewlines = 0
        var k = out.count - 1
        while k >= 0 && out[k] == ascii("\n") && trailingNewlines < 2 {
            trailingNewlines += 1
            k -= 1
        }
    }

    /// The text, without trailing whitespace.
    mutating func finish() -> String {
        while let last = out.last, last == ascii(" ") || last == ascii("\t") || last == ascii("\n") { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The tokenizer and tree-less interpretation of a document.
private struct HTMLExtractor {
    enum Kind {
        case inline, rawDrop, title, textarea, xmp, plaintext, skip, head, body
        case heading(Int), list, listItem, pre, lineBreak, paragraph, line, row, cell, anchor, image
    }

    static let kinds: [String: Kind] = {
        var kinds: [String: Kind] = [
            "script": .rawDrop, "style": .rawDrop, "noscript": .rawDrop, "iframe": .rawDrop, "noembed": .rawDrop,
            "noframes": .rawDrop, "title": .title, "textarea": .textarea, "xmp": .xmp, "plaintext": .plaintext,
            "template": .skip, "svg": .skip, "select": .skip, "datalist": .skip,
            "head": .head, "body": .body, "ul": .list, "ol": .list, "menu": .list, "li": .listItem,
            "pre": .pre, "listing": .pre, "br": .lineBreak, "tr": .row, "td": .cell, "th": .cell, "a": .anchor,
            "img": .image,
        ]
        for level in 1...6 { kinds["h\(level)"] = .heading(level) }
        for name in [
            "p", "blockquote", "table", "section", "article", "header", "footer", "main", "aside", "nav", "figure", "form",
            "fieldset", "details", "address", "center", "dl", "hgroup", "search", "hr",
        ] {
            kinds[name] = .paragraph
        }
        for name in [
            "div", "dt", "dd", "caption", "figcaption", "summary", "option", "optgroup", "legend", "thead", "tbody",
            "tfoot", "dialog", "frameset", "frame", "html",
        ] {
            kinds[name] = .line
        }
        return kinds
    }()

    /// Elements that may appear in `<head>`; any other start tag ends it.
    static let headContent: Set<String> = [
        "meta", "link", "base", "title", "style", "script", "noscript", "template", "basefont", "bgsound", "head",
    ]

    /// Void elements and elements whose end tag may be omitted: `hidden` on them is not honoured,
    /// since their end cannot be found by counting tags.
    static let unskippable: Set<String> = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
        "keygen", "frame", "basefont", "bgsound", "image", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td",
        "th", "thead", "tbody", "tfoot", "rb", "rt", "rtc", "rp", "colgroup", "caption", "html", "head", "body",
    ]

    static let headingPrefixes: [[UInt8]] = (1...6).map { Array(String(repeating: "#", count: $0).utf8) + [ascii(" ")] }

    struct Tag {
        var name = ""
        var selfClosing = false
        var href: String?
        var hidden = false
        var alt: String?
        var label: String?
    }

    let b: [UInt8]
    let n: Int
    var i = 0
    var w = TextWriter()
    var title: String?
    var links: [PageLink] = []

    var inHead = false
    var listDepth = 0
    var preDepth = 0 {
        didSet { w.preformatted = preDepth > 0 }
    }
    var link: (href: String, fallback: String?)?

    /// The element whose content is being dropped, how deeply it is nested in itself, and where
    /// its content began (to re-read it if its end never comes).
    var skipName: String?
    var skipDepth = 0
    var skipResume = 0
    /// Set once an unclosed dropped element was re-read: nothing is dropped by `hidden`, `svg`,
    /// `template` … any more, which keeps the work linear.
    var skipsDisabled = false

    /// Positions from which searches are known to fail, so that they are not repeated.
    var commentEndMissingFrom = Int.max
    var rawEndMissingFrom: [String: Int] = [:]

    init(_ bytes: [UInt8]) {
        b = bytes
        n = bytes.count
    }

    mutating func run() -> ExtractedPage {
        while true {
            while i < n {
                if b[i] == ascii("<") {
                    markup()
                    continue
                }
                var j = i + 1
                while j < n && b[j] != ascii("<") { j += 1 }
                if skipName == nil && !inHead { HTMLText.writeText(b, i, j, into: &w) }
                i = j
            }
            // An element being dropped never ended: read its content after all.
            if skipName != nil && !skipsDisabled {
                skipsDisabled = true
                skipName = nil
                skipDepth = 0
                i = skipResume
                continue
            }
            break
        }
        finishLink()
        return ExtractedPage(title: title, text: w.finish(), links: links)
    }

    // MARK: Tokenizing

    /// At a `<`.
    mutating func markup() {
        let next = peek(i + 1)
        if next == ascii("!") {
            if peek(i + 2) == ascii("-") && peek(i + 3) == ascii("-") {
                i = commentEnd(i)
            } else {
                i = afterNext(ascii(">"), from: i + 2)  // doctype, CDATA, bogus comment
            }
        } else if next == ascii("?") {
            i = afterNext(ascii(">"), from: i + 2)
        } else if next == ascii("/") {
            let after = peek(i + 2)
            if isASCIILetter(after) {
                guard let (tag, end) = parseTag(nameStart: i + 2) else {
                    i = n
                    return
                }
                i = end
                endTag(tag)
            } else if after == ascii(">") {
                i += 3
            } else if i + 2 >= n {
                text(i, n)
                i = n
            } else {
                i = afterNext(ascii(">"), from: i + 2)
            }
        } else if isASCIILetter(next) {
            guard let (tag, end) = parseTag(nameStart: i + 1) else {
                i = n
                return
            }
            i = end
            startTag(tag)
        } else {
            text(i, i + 1)
            i += 1
        }
    }

    func peek(_ k: Int) -> UInt8 { k < n ? b[k] : 0 }

    func firstIndex(of byte: UInt8, from start: Int) -> Int {
        var k = start
        while k < n && b[k] != byte { k += 1 }
        return k
    }

    func afterNext(_ byte: UInt8, from start: Int) -> Int {
        min(firstIndex(of: byte, from: start) + 1, n)
    }

    /// After a comment starting at `start`. `<!-->` and `<!--->` end at once; a comment without
    /// `-->` ends at the next `>` (the standard would drop the rest of the document).
    mutating func commentEnd(_ start: Int) -> Int {
        if start < commentEndMissingFrom {
            var k = start + 2
            while k + 2 < n {
                if b[k] == ascii("-") && b[k + 1] == ascii("-") && b[k + 2] == ascii(">") { return k + 3 }
                k += 1
            }
            commentEndMissingFrom = start
        }
        return afterNext(ascii(">"), from: start + 4)
    }

    mutating func text(_ lo: Int, _ hi: Int) {
        if skipName == nil && !inHead { w.text(b, lo, hi) }
    }

    /// Parses a tag whose name starts at `nameStart`. Returns nil when the document ends inside
    /// it. A quote that is never closed is taken as an ordinary character.
    func parseTag(nameStart: Int) -> (Tag, Int)? {
        var ordinaryQuotes: [Int] = []
        while true {
            switch parseTag(nameStart: nameStart, ordinaryQuotes: ordinaryQuotes) {
            case .tag(let tag, let end): return (tag, end)
            case .endOfInput: return nil
            case .unclosedQuote(let at):
                if ordinaryQuotes.count >= 2 { return nil }
                ordinaryQuotes.append(at)
            }
        }
    }

    enum TagParse {
        case tag(Tag, Int)
        case endOfInput
        case unclosedQuote(Int)
    }

    func parseTag(nameStart: Int, ordinaryQuotes: [Int]) -> TagParse {
        var tag = Tag()
        var j = nameStart
        while j < n && !isHTMLSpace(b[j]) && b[j] != ascii("/") && b[j] != ascii(">") { j += 1 }
        tag.name = lowercaseString(nameStart, min(j, nameStart + 64))
        while true {
            while j < n && (isHTMLSpace(b[j]) || b[j] == ascii("/")) {
                if b[j] == ascii("/") && j + 1 < n && b[j + 1] == ascii(">") { tag.selfClosing = true }
                j += 1
            }
            guard j < n else { return .endOfInput }
            if b[j] == ascii(">") { return .tag(tag, j + 1) }
            let nameStart = j
            j += 1
            while j < n && !isHTMLSpace(b[j]) && b[j] != ascii("/") && b[j] != ascii(">") && b[j] != ascii("=") { j += 1 }
            let nameEnd = j
            var k = j
            while k < n && isHTMLSpace(b[k]) { k += 1 }
            var value: Range<Int>?
            if k < n && b[k] == ascii("=") {
                k += 1
                while k < n && isHTMLSpace(b[k]) { k += 1 }
                guard k < n else { return .endOfInput }
                let quote = b[k]
                if (quote == ascii("\"") || quote == ascii("'")) && !ordinaryQuotes.contains(k) {
                    var e = k + 1
                    while e < n && b[e] != quote { e += 1 }
                    guard e < n else { return .unclosedQuote(k) }
                    value = k + 1..<e
                    j = e + 1
                } else {
                    var e = k
                    while e < n && !isHTMLSpace(b[e]) && b[e] != ascii(">") { e += 1 }
                    value = k..<e
                    j = e
                }
            } else {
                j = k
            }
            attribute(nameStart..<nameEnd, value, into: &tag)
        }
    }

    func attribute(_ name: Range<Int>, _ value: Range<Int>?, into tag: inout Tag) {
        switch name.count {
        case 3 where matchesLowercase(b, name.lowerBound, "alt"):
            if let value { tag.alt = HTMLText.attributeValue(b, value.lowerBound, value.upperBound) }
        case 4 where matchesLowercase(b, name.lowerBound, "href"):
            if let value { tag.href = HTMLText.attributeValue(b, value.lowerBound, value.upperBound) }
        case 5 where matchesLowercase(b, name.lowerBound, "title"):
            if let value, tag.label == nil { tag.label = HTMLText.attributeValue(b, value.lowerBound, value.upperBound) }
        case 6 where matchesLowercase(b, name.lowerBound, "hidden"):
            tag.hidden = true
        case 10 where matchesLowercase(b, name.lowerBound, "aria-label"):
            if let value { tag.label = HTMLText.attributeValue(b, value.lowerBound, value.upperBound) }
        case 11 where matchesLowercase(b, name.lowerBound, "aria-hidden"):
            if let value, trimmedASCII(HTMLText.attributeValue(b, value.lowerBound, value.upperBound)).lowercased() == "true" {
                tag.hidden = true
            }
        default:
            break
        }
    }

    func lowercaseString(_ lo: Int, _ hi: Int) -> String {
        String(unsafeUninitializedCapacity: hi - lo) { buffer in
            for k in lo..<hi {
                let c = b[k]
                buffer[k - lo] = c >= ascii("A") && c <= ascii("Z") ? c + 32 : c
            }
            return hi - lo
        }
    }

    /// Where the end tag `</name` of a raw-text element begins, searching from `start`.
    mutating func rawTextEnd(_ name: String, from start: Int) -> Int? {
        if let missing = rawEndMissingFrom[name], start >= missing { return nil }
        let nameBytes = Array(name.utf8)
        var k = start
        while k < n {
            if b[k] == ascii("<") && k + 1 < n && b[k + 1] == ascii("/") {
                let nameEnd = k + 2 + nameBytes.count
                if nameEnd <= n && matchesLowercase(b, k + 2, nameBytes) {
                    if nameEnd == n || isHTMLSpace(b[nameEnd]) || b[nameEnd] == ascii("/") || b[nameEnd] == ascii(">") {
                        return k
                    }
                }
            }
            k += 1
        }
        rawEndMissingFrom[name] = min(rawEndMissingFrom[name] ?? Int.max, start)
        return nil
    }

    // MARK: Interpreting

    mutating func startTag(_ tag: Tag) {
        let kind = Self.kinds[tag.name] ?? .inline
        if let skipName {
            switch kind {
            case .rawDrop, .title, .textarea, .xmp:
                i = rawTextEnd(tag.name, from: i) ?? n
            case .plaintext:
                i = n
            default:
                if tag.name == skipName && !tag.selfClosing { skipDepth += 1 }
            }
            return
        }
        if inHead && !Self.headContent.contains(tag.name) { inHead = false }
        switch kind {
        case .rawDrop:
            i = rawTextEnd(tag.name, from: i) ?? n
            return
        case .title, .textarea:
            let start = i
            // Without an end tag, the text ends at the next tag (the standard would take the rest
            // of the document).
            let end = rawTextEnd(tag.name, from: start) ?? firstIndex(of: ascii("<"), from: start)
            i = max(end, start)
            if case .title = kind {
                if title == nil {
                    var titleWriter = TextWriter()
                    HTMLText.writeText(b, start, i, into: &titleWriter)
                    let text = titleWriter.finish()
                    if !text.isEmpty { title = cut(text, HTMLText.maxTitleBytes) }
                }
            } else if !inHead {
                w.block(1)
                HTMLText.writeText(b, start, i, into: &w)
                w.block(1)
            }
            return
        case .xmp:
            let start = i
            i = rawTextEnd(tag.name, from: start) ?? n
            w.block(2)
            preDepth += 1
            w.text(b, start, i)
            preDepth -= 1
            w.block(2)
            return
        case .plaintext:
            w.block(2)
            preDepth += 1
            w.text(b, i, n)
            i = n
            return
        default:
            break
        }
        if !skipsDisabled && !tag.selfClosing && !Self.unskippable.contains(tag.name) {
            var drop = tag.hidden
            if case .skip = kind { drop = true }
            if drop {
                skipName = tag.name
                skipDepth = 1
                skipResume = i
                return
            }
        }
        switch kind {
        case .head:
            inHead = true
        case .body:
            inHead = false
        case .heading(let level):
            w.block(2)
            w.setPrefix(Self.headingPrefixes[level - 1], owner: .heading)
        case .list:
            listDepth += 1
            w.block(listDepth == 1 ? 2 : 1)
        case .listItem:
            w.block(1)
            let indent = Array(repeating: ascii(" "), count: 2 * min(max(listDepth - 1, 0), 8))
            w.setPrefix(indent + [ascii("-"), ascii(" ")], owner: .listItem)
        case .pre:
            w.block(2)
            preDepth += 1
            // A newline right after <pre> is not content.
            if peek(i) == ascii("\n") {
                i += 1
            } else if peek(i) == ascii("\r") {
                i += peek(i + 1) == ascii("\n") ? 2 : 1
            }
        case .lineBreak:
            w.lineBreak()
        case .paragraph:
            w.block(2)
        case .line, .row:
            w.block(1)
        case .cell:
            w.cell()
        case .anchor:
            finishLink()
            if let href = tag.href.map(cleanedHref), !href.isEmpty, !href.hasPrefix("#"),
                !href.lowercased().hasPrefix("javascript:")
            {
                link = (href, tag.label)
                w.openLink()
            }
        case .image:
            if link != nil, link?.fallback == nil, let alt = tag.alt { link?.fallback = alt }
        default:
            break
        }
    }

    mutating func endTag(_ tag: Tag) {
        let kind = Self.kinds[tag.name] ?? .inline
        if let skipName {
            if tag.name == skipName {
                skipDepth -= 1
                if skipDepth == 0 { self.skipName = nil }
            }
            return
        }
        switch kind {
        case .head:
            inHead = false
        case .heading:
            w.block(2)
            w.clearPrefix(.heading)
        case .list:
            listDepth = max(0, listDepth - 1)
            w.block(listDepth == 0 ? 2 : 1)
        case .listItem:
            w.block(1)
            w.clearPrefix(.listItem)
        case .pre:
            preDepth = max(0, preDepth - 1)
            w.block(2)
        case .lineBreak:
            w.lineBreak()
        case .paragraph:
            w.block(2)
        case .line, .row:
            w.block(1)
        case .anchor:
            finishLink()
        default:
            break
        }
    }

    mutating func finishLink() {
        guard let open = link else { return }
        link = nil
        var text = w.closeLink() ?? ""
        if text.isEmpty, let fallback = open.fallback {
            text = cut(HTMLText.plainText(fromFragment: fallback), HTMLText.maxLinkTextBytes)
        }
        links.append(PageLink(text: text, url: open.href))
    }

    /// An href as a URL parser sees it: without surrounding spaces, tabs or newlines.
    func cleanedHref(_ href: String) -> String {
        var bytes = Array(href.utf8).filter { $0 != ascii("\t") && $0 != ascii("\n") && $0 != ascii("\r") }
        while let first = bytes.first, first <= 0x20 { bytes.removeFirst() }
        while let last = bytes.last, last <= 0x20 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

// MARK: - Paging through a page

public enum PageWindow {
    /// Lines `startLine…` (0-based) of `text`, each prefixed with its number (`L12: …`), as many as
    /// fit in `maxBytes` of UTF-8 (at least one: a line that is too long is cut, ending in `…`).
    /// `nextLine` is where to continue, nil when the text's end was reached; a trailing newline
    /// does not count as a line.
    public static func window(_ text: String, startLine: Int, maxBytes: Int) -> (text: String, nextLine: Int?, totalLines: Int) {
        let b = Array(text.utf8)
        var totalLines = 0
        for byte in b where byte == ascii("\n") { totalLines += 1 }
        if let last = b.last, last != ascii("\n") { totalLines += 1 }
        let first = max(0, startLine)
        guard first < totalLines else { return ("", nil, totalLines) }

        var k = 0
        var line = 0
        while line < first {
            while b[k] != ascii("\n") { k += 1 }
            k += 1
            line += 1
        }
        var out: [UInt8] = []
        while line < totalLines {
            var e = k
            while e < b.count && b[e] != ascii("\n") { e += 1 }
            var contentEnd = e
            if contentEnd > k && b[contentEnd - 1] == ascii("\r") { contentEnd -= 1 }
            let label = Array("L\(line):".utf8)
            let separator = out.isEmpty ? 0 : 1
            let size = label.count + (contentEnd > k ? 1 + contentEnd - k : 0)
            if out.count + separator + size > maxBytes {
                guard out.isEmpty else { break }
                // A line longer than the window: cut it.
                var room = max(0, maxBytes - label.count - 1 - 3)
                if room >= contentEnd - k {
                    room = contentEnd - k
                } else {
                    while room > 0 && b[k + room] & 0xC0 == 0x80 { room -= 1 }
                }
                out += label
                out.append(ascii(" "))
                out += b[k..<(k + room)]
                out += [0xE2, 0x80, 0xA6]
                line += 1
                break
            }
            if separator == 1 { out.append(ascii("\n")) }
            out += label
            if contentEnd > k {
                out.append(ascii(" "))
                out += b[k..<contentEnd]
            }
            line += 1
            k = e + 1
        }
        return (String(decoding: out, as: UTF8.self), line < totalLines ? line : nil, totalLines)
    }
}

// MARK: - Finding in a page

public struct PageMatch: Sendable, Equatable {
    /// The 0-based line of the match's start, as numbered by `PageWindow`.
    public var line: Int
    /// The match with up to `contextChars` characters either side, on one line (runs of
    /// whitespace, newlines included, become one space); `…` marks a cut.
    public var snippet: String

    public init(line: Int, snippet: String) {
        self.line = line
        self.snippet = snippet
    }
}

public enum FindInPage {
    /// Case-insensitive occurrences of `pattern` (plain text, not a regular expression), in order,
    /// not overlapping, at most `maxMatches`. Linear in the text (Knuth–Morris–Pratt).
    public static func find(_ text: String, pattern: String, maxMatches: Int = 20, contextChars: Int = 120) -> [PageMatch] {
        let needle = pattern.unicodeScalars.map(fold)
        let m = needle.count
        guard m > 0, maxMatches > 0 else { return [] }
        var failure = [Int](repeating: 0, count: m)
        var q = 0
        for k in 1..<max(m, 1) {
            while q > 0 && needle[k] != needle[q] { q = failure[q - 1] }
            if needle[k] == needle[q] { q += 1 }
            failure[k] = q
        }
        let newline = UInt32(ascii("\n"))
        let needleNewlines = needle.reduce(0) { $0 + ($1 == newline ? 1 : 0) }
        let context = max(0, contextChars)

        let scalars = text.unicodeScalars
        var recent = [String.Index](repeating: scalars.startIndex, count: m)  // the last m positions
        var matches: [PageMatch] = []
        var state = 0
        var line = 0  // newlines before `index`
        var position = 0
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let folded = fold(scalars[index])
            recent[position % m] = index
            while state > 0 && needle[state] != folded { state = failure[state - 1] }
            if needle[state] == folded { state += 1 }
            if state == m {
                let start = recent[(position + 1) % m]
                let end = scalars.index(after: index)
                let newlinesInside = needleNewlines - (folded == newline ? 1 : 0)
                matches.append(PageMatch(line: line - newlinesInside, snippet: snippet(scalars, start, end, context)))
                if matches.count >= maxMatches { break }
                state = 0
            }
            if folded == newline { line += 1 }
            position += 1
            index = scalars.index(after: index)
        }
        return matches
    }

    static func fold(_ s: Unicode.Scalar) -> UInt32 {
        let v = s.value
        if v < 0x80 { return v >= 0x41 && v <= 0x5A ? v + 0x20 : v }
        var lower = s.properties.lowercaseMapping.unicodeScalars.makeIterator()
        if let first = lower.next(), lower.next() == nil { return first.value }
        return v
    }

    static func snippet(_ scalars: String.UnicodeScalarView, _ start: String.Index, _ end: String.Index, _ context: Int) -> String {
        var lo = start
        var count = 0
        while count < context && lo > scalars.startIndex {
            lo = scalars.index(before: lo)
            count += 1
        }
        var hi = end
        count = 0
        while count < context && hi < scalars.endIndex {
            hi = scalars.index(after: hi)
            count += 1
        }
        var result = String.UnicodeScalarView()
        if lo > scalars.startIndex { result.append("…") }
        var space = false
        for s in scalars[lo..<hi] {
            if s == " " || s == "\n" || s == "\t" || s == "\r" {
                space = true
                continue
            }
            if space && !result.isEmpty && result.last != "…" { result.append(" ") }
            space = false
            result.append(s)
        }
        if hi < scalars.endIndex { result.append("…") }
        return String(result)
    }
}

// MARK: - SearXNG

public struct SearchResult: Sendable, Equatable {
    public var title: String
    public var url: String
    public var snippet: String
    public var publishedDate: String?

    public init(title: String, url: String, snippet: String, publishedDate: String? = nil) {
        self.title = title
        self.url = url
        self.snippet = snippet
        self.publishedDate = publishedDate
    }
}

public struct WebContentError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Requests to and results from a SearXNG instance's JSON API (`format=json` must be enabled in
/// the instance's `search.formats`).
public enum SearXNG {
    /// `<base>/search?q=…&format=json&pageno=N[&language=…][&time_range=…]`, or nil when `base`
    /// is not an http(s) URL with a host (and without query or fragment). `base` is the instance's
    /// root, with or without a trailing `/`; pages start at 1.
    public static func requestURL(base: String, query: String, page: Int, language: String?, timeRange: String?) -> String? {
        var root = trimmedASCII(base)
        let lower = root.lowercased()
        let schemeLength: Int
        if lower.hasPrefix("https://") {
            schemeLength = 8
        } else if lower.hasPrefix("http://") {
            schemeLength = 7
        } else {
            return nil
        }
        let rest = root.utf8.dropFirst(schemeLength)
        guard let first = rest.first, first != ascii("/"), first != ascii("?"), first != ascii("#"),
            !rest.contains(where: { $0 <= 0x20 || $0 == ascii("?") || $0 == ascii("#") })
        else { return nil }
        while root.hasSuffix("/") { root.removeLast() }
        var url = root + "/search?q=" + percentEncoded(query) + "&format=json&pageno=\(max(1, page))"
        if let language = language.map(trimmedASCII), !language.isEmpty {
            url += "&language=" + percentEncoded(language)
        }
        if let timeRange = timeRange.map(trimmedASCII), !timeRange.isEmpty {
            url += "&time_range=" + percentEncoded(timeRange)
        }
        return url
    }

    /// Every byte but RFC 3986's unreserved characters percent-encoded (a space is `%20`).
    static func percentEncoded(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for c in s.utf8 {
            if isASCIIAlphanumeric(c) || c == ascii("-") || c == ascii(".") || c == ascii("_") || c == ascii("~") {
                out.append(c)
            } else {
                out += [ascii("%"), hex[Int(c >> 4)], hex[Int(c & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The results of a SearXNG JSON response, in its order: only http(s) URLs, titles and
    /// snippets as plain text, duplicates (same URL but for case of scheme and host, a fragment or
    /// a trailing `/`) dropped, at most `limit`.
    public static func parseResults(_ body: [UInt8], limit: Int) throws(WebContentError) -> [SearchResult] {
        let root: JSONValue
        do {
            root = try JSONParser.parse(body)
        } catch {
            throw WebContentError("The search engine's response is not valid JSON (\(error.description)).")
        }
        guard let object = root.objectValue else {
            throw WebContentError("The search engine's response is not a JSON object.")
        }
        guard let items = object["results"]?.arrayValue else {
            throw WebContentError("The search engine's response has no results list.")
        }
        var results: [SearchResult] = []
        var seen: [String: Int] = [:]
        guard limit > 0 else { return [] }
        for item in items {
            guard let url = item["url"]?.stringValue.map(trimmedASCII), isHTTPURL(url) else { continue }
            let key = dedupeKey(url)
            let snippet = HTMLText.plainText(fromFragment: item["content"]?.stringValue ?? "")
            if let index = seen[key] {
                if results[index].snippet.isEmpty { results[index].snippet = snippet }
                continue
            }
            var title = HTMLText.plainText(fromFragment: item["title"]?.stringValue ?? "")
            if title.isEmpty { title = url }
            var published = (item["publishedDate"]?.stringValue ?? item["pubdate"]?.stringValue).map(trimmedASCII)
            if published?.isEmpty == true { published = nil }
            seen[key] = results.count
            results.append(SearchResult(title: title, url: url, snippet: snippet, publishedDate: published))
            if results.count >= limit { break }
        }
        return results
    }

    static func isHTTPURL(_ url: String) -> Bool {
        let lower = url.prefix(8).lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else {
            return false
        }
        guard let first = rest.first else { return false }
        return first != "/" && !rest.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" })
    }

    static func dedupeKey(_ url: String) -> String {
        var s = Substring(url)
        if let hash = s.firstIndex(of: "#") { s = s[..<hash] }
        while s.hasSuffix("/") { s = s.dropLast() }
        guard let schemeEnd = s.firstRange(of: "://") else { return String(s) }
        let authorityEnd = s[schemeEnd.upperBound...].firstIndex(where: { $0 == "/" || $0 == "?" }) ?? s.endIndex
        return s[..<authorityEnd].lowercased() + s[authorityEnd...]
    }
}

public enum SearchResultsText {
    /// Results as a numbered list for the model (`[1] Title`, the URL, the date if known, the
    /// snippet; a blank line between results), within `maxBytes` of UTF-8: results that do not fit
    /// are left out, and the text says how many.
    public static func format(_ results: [SearchResult], query: String, maxBytes: Int) -> String {
        let quoted = "\"" + query + "\""
        guard !results.isEmpty else { return fit("No results for \(quoted).", maxBytes) }
        let header = "Search results for \(quoted):"
        let entries = results.enumerated().map { index, result in entry(index + 1, result, snippet: result.snippet) }
        func note(_ omitted: Int) -> String {
            omitted == 1
                ? "(1 more result was left out to stay within the size limit.)"
                : "(\(omitted) more results were left out to stay within the size limit.)"
        }
        func size(_ kept: Int, firstEntry: String? = nil) -> Int {
            var total = header.utf8.count
            for k in 0..<kept { total += 2 + (k == 0 ? (firstEntry ?? entries[0]) : entries[k]).utf8.count }
            if kept < entries.count { total += 2 + note(entries.count - kept).utf8.count }
            return total
        }
        var kept = 0
        for k in stride(from: entries.count, through: 1, by: -1) where size(k) <= maxBytes {
            kept = k
            break
        }
        var first = entries[0]
        if kept == 0 {
            // Not even the first result fits: shorten its snippet.
            let withoutSnippet = entry(1, results[0], snippet: "")
            let room = maxBytes - size(1, firstEntry: withoutSnippet) - 1
            if room >= 16 {
                first = entry(1, results[0], snippet: cut(results[0].snippet, room))
                kept = 1
            }
        }
        var parts = [header]
        for k in 0..<kept { parts.append(k == 0 ? first : entries[k]) }
        if kept < entries.count { parts.append(note(entries.count - kept)) }
        return fit(parts.joined(separator: "\n\n"), maxBytes)
    }

    static func entry(_ number: Int, _ result: SearchResult, snippet: String) -> String {
        var lines = ["[\(number)] \(result.title)", result.url]
        if let date = result.publishedDate { lines.append("Published: \(date)") }
        if !snippet.isEmpty { lines.append(snippet) }
        return lines.joined(separator: "\n")
    }

    static func fit(_ text: String, _ maxBytes: Int) -> String {
        text.utf8.count <= maxBytes ? text : cut(text, max(0, maxBytes))
    }
}

// MARK: - Domain allow-lists

public enum DomainMatch {
    /// Whether `host` is one of `domains` or a subdomain of one: `example.com` matches
    /// `example.com` and `a.example.com`, never `badexample.com`. Case and trailing dots are
    /// ignored; a leading `*.` (or `.`) means the same as the bare domain, as in `EgressPolicy`.
    /// IP addresses match only exactly. An empty domain matches nothing.
    public static func host(_ host: String, matchesAny domains: [String]) -> Bool {
        let host = normalized(host)
        guard !host.isEmpty else { return false }
        for domain in domains {
            var domain = normalized(domain)
            if domain.hasPrefix("*.") { domain.removeFirst(2) }
            while domain.hasPrefix(".") { domain.removeFirst() }
            guard !domain.isEmpty else { continue }
            if host == domain { return true }
            if isIPAddress(domain) { continue }
            if host.hasSuffix("." + domain) { return true }
        }
        return false
    }

    static func normalized(_ name: String) -> String {
        var s = trimmedASCII(name).lowercased()
        while s.hasSuffix(".") { s.removeLast() }
        return s
    }

    static func isIPAddress(_ name: String) -> Bool {
        name.contains(":") || name.hasPrefix("[") || name.utf8.allSatisfy { ($0 >= ascii("0") && $0 <= ascii("9")) || $0 == ascii(".") }
    }
}

// MARK: - Helpers

@inline(__always)
private func ascii(_ c: Unicode.Scalar) -> UInt8 { UInt8(c.value) }

private func isHTMLSpace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0C || c == 0x0D
}

private func isASCIILetter(_ c: UInt8) -> Bool {
    (c | 0x20) >= ascii("a") && (c | 0x20) <= ascii("z")
}

private func isASCIIAlphanumeric(_ c: UInt8) -> Bool {
    isASCIILetter(c) || (c >= ascii("0") && c <= ascii("9"))
}

private func digitValue(_ c: UInt8, radix: UInt32) -> UInt32? {
    if c >= ascii("0") && c <= ascii("9") { return UInt32(c - ascii("0")) }
    if radix == 16 {
        let lower = c | 0x20
        if lower >= ascii("a") && lower <= ascii("f") { return UInt32(lower - ascii("a") + 10) }
    }
    return nil
}

/// Whether `b[at...]` starts with `lowercase` (ASCII letters compared case-insensitively).
private func matchesLowercase(_ b: [UInt8], _ at: Int, _ lowercase: some Collection<UInt8>) -> Bool {
    guard at >= 0, at + lowercase.count <= b.count else { return false }
    var k = at
    for expected in lowercase {
        let c = b[k]
        if (c >= ascii("A") && c <= ascii("Z") ? c + 32 : c) != expected { return false }
        k += 1
    }
    return true
}

private func matchesLowercase(_ b: [UInt8], _ at: Int, _ lowercase: String) -> Bool {
    matchesLowercase(b, at, lowercase.utf8)
}

/// `s` without leading and trailing ASCII whitespace and control characters.
private func trimmedASCII(_ s: String) -> String {
    let scalars = s.unicodeScalars
    guard let first = scalars.firstIndex(where: { $0.value > 0x20 }),
        let last = scalars.lastIndex(where: { $0.value > 0x20 })
    else { return "" }
    return String(Substring(scalars[first...last]))
}

/// `s` cut to at most `maxBytes` of UTF-8 (on a character boundary), ending in `…` when cut.
private func cut(_ s: String, _ maxBytes: Int) -> String {
    guard s.utf8.count > maxBytes else { return s }
    var result = ""
    var size = 0
    let room = maxBytes - 3
    guard room >= 0 else { return "" }
    for character in s {
        let n = character.utf8.count
        if size + n > room { break }
        result.append(character)
        size += n
    }
    return result + "…"
}
