import Testing

@testable import Tools

/// A page with the usual furniture and a few malformations.
private let webFixturePage = """
    <!DOCTYPE html>
    <HTML lang="en">
    <head>
    <meta charset="utf-8">
    <title>Caf&eacute; &amp; Bar &mdash; Menu</title>
    <style>body { color: red; } div > p { margin: 0 }</style>
    <script>var s = "</div><p>not text</p>"; if (a < b && c > d) {}</script>
    <link rel="stylesheet" href="/x.css">
    </head>
    <BODY>
    <nav><a href="/">Home</a> | <a href="/about" title="About us">About</a> | <A HREF='#top'>Top</A></nav>
    <!-- a comment with <p>markup</p> -->
    <H1 class="big">Welcome to the Caf&eacute;</H1>
    <p>Open  daily,
       9&ndash;5. Prices in &euro;&nbsp;and &#36; &#x263A;.</p>
    <div data-x="a > b" class='c'>Attribute with &gt; inside quotes.</div>
    <h2>Menu</h2>
    <ul>
    <li>Coffee &amp; cake
    <li>Tea <ul><li>Green</li><li>Black</li></ul>
    </ul>
    <pre>
      let x = 1
      print(x)   // &lt;done&gt;
    </pre>
    <p>Read the <a href="https://example.com/blog?a=1&amp;b=2">blog</a>.
    <p>Unclosed paragraph <b>bold <i>italic</p>
    <noscript><p>Enable JS</p></noscript>
    <svg viewBox="0 0 1 1"><title>icon</title><text>svg text</text></svg>
    <span aria-hidden="true">hidden icon</span>
    <div hidden>hidden div</div>
    <table><tr><th>Name</th><th>Price</th></tr><tr><td>Coffee</td><td>2.50</td></tr></table>
    <a href="/logo"><img src="l.png" alt="Logo"></a>
    <footer>&copy; 2024 Caf&eacute;</footer>
    </BODY></HTML>
    """

private func extractHTML(_ html: String, contentType: String? = "text/html") -> ExtractedPage {
    HTMLText.extract(Array(html.utf8), contentType: contentType)
}

/// A small deterministic generator, so that the fuzz test is reproducible.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("web page text")
struct HTMLTextTests {
    @Test func realisticPage() {
        let page = extractHTML(webFixturePage, contentType: "text/html; charset=utf-8")
        #expect(page.title == "Café & Bar — Menu")
        #expect(
            page.text == """
                Home | About | Top

                # Welcome to the Café

                Open daily, 9–5. Prices in € and $ ☺.

                Attribute with > inside quotes.

                ## Menu

                - Coffee & cake
                - Tea
                  - Green
                  - Black

                  let x = 1
                  print(x)   // <done>

                Read the blog.

                Unclosed paragraph bold italic

                Name | Price
                Coffee | 2.50

                © 2024 Café
                """)
        #expect(
            page.links == [
                PageLink(text: "Home", url: "/"),
                PageLink(text: "About", url: "/about"),
                PageLink(text: "blog", url: "https://example.com/blog?a=1&b=2"),
                PageLink(text: "Logo", url: "/logo"),
            ])
        for dropped in ["not text", "color", "markup", "Enable JS", "icon", "svg text", "hidden", "&amp;"] {
            #expect(!page.text.contains(dropped), "\(dropped)")
        }
    }

    @Test func whitespaceAndBlankLines() {
        #expect(extractHTML("<p>a</p><br><br><br><br><p>b</p>").text == "a\n\nb")
        #expect(extractHTML("one<br>two<br><br>three").text == "one\ntwo\n\nthree")
        #expect(extractHTML("  \n <div>  lead </div>\n\n<div>\ttrail  </div>  ").text == "lead\ntrail")
        #expect(extractHTML("a<b>b</b>c <i> d </i> e").text == "abc d e")
        #expect(extractHTML("<pre>\n\n\n\n\nx  \n\n\n\ny</pre>").text == "x\n\ny")
        #expect(extractHTML("<pre>\r\n  keep   spaces\r\n\tand tabs</pre>").text == "  keep   spaces\n\tand tabs")
        #expect(extractHTML("<h3>  Title  </h3><h6>Small</h6>text").text == "### Title\n\n###### Small\n\ntext")
        #expect(extractHTML("<h2></h2><p>no empty heading</p>").text == "no empty heading")
        #expect(extractHTML("<ol><li><p>loose</p></li><li>tight</li></ol>").text == "- loose\n\n- tight")
    }

    @Test func entities() {
        let page = extractHTML(
            "<p>&lt;tag&gt; &quot;q&quot; &apos;a&apos; &hellip; &laquo;x&raquo; &lsquo;s&rsquo; &ldquo;d&rdquo; 2&times;3 &eacute;&Eacute;</p>"
                + "<p>&#65;&#x42;&#X43;&#0;&#xD800;&#x110000;&#99999999999;&#150;&#x1F600;</p>"
                + "<p>AT&T &bogus; &amp &copy 5 &lt 6 &# &#x; &</p>")
        #expect(
            page.text == """
                <tag> "q" 'a' … «x» ‘s’ “d” 2×3 éÉ

                ABC\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}–😀

                AT&T &bogus; & © 5 < 6 &# &#x; &
                """)
        // In attributes, `&name=` is not a reference (query strings).
        #expect(extractHTML("<a href='/x?a=1&copy=2&amp;b=3&lt;'>x</a>").links == [PageLink(text: "x", url: "/x?a=1&copy=2&b=3<")])
        // Non-breaking spaces collapse like spaces; soft hyphens vanish.
        #expect(extractHTML("<p>a&nbsp;&nbsp;&nbsp;b\u{A0}c wo&shy;rd</p>").text == "a b c word")
    }

    @Test func malformedMarkupIsRecoveredFrom() {
        // An attribute quote that is never closed: the quote is taken as a character.
        let unclosedQuote = extractHTML("<p>before</p><a href=\"/x>link</a><p>after</p>")
        #expect(unclosedQuote.text == "before\n\nlink\n\nafter")
        #expect(unclosedQuote.links == [PageLink(text: "link", url: "\"/x")])
        // A comment that is never closed ends at the next `>`.
        #expect(extractHTML("<p>a</p><!-- oops <p>b</p>").text == "a\n\nb")
        // A hidden element that is never closed is kept rather than swallowing the page.
        #expect(extractHTML("<p>a</p><div hidden><p>b</p><p>c</p>").text == "a\n\nb\n\nc")
        // Stray `<`, `</>`, an unclosed title and tags cut by the end of input.
        #expect(extractHTML("1 < 2 and 3 <4 </> x</ y> <title>T<p>body").text == "1 < 2 and 3 <4 x\n\nbody")
        #expect(extractHTML("<title>T<p>body").title == "T")
        #expect(extractHTML("text <a href=\"x").text == "text")
        #expect(extractHTML("text </").text == "text </")
        // Script end tags are found case-insensitively; an unclosed script ends the document.
        #expect(extractHTML("<SCRIPT>x</ScRiPt >shown<script>if (a</b) {}").text == "shown")
        // Uppercase tags and attributes, self-closing syntax, processing instructions, CDATA.
        #expect(extractHTML("<?xml version='1.0'?><P>A<BR/>B</P><![CDATA[x]]><DIV/>C").text == "A\nB\n\nC")
    }

    @Test func droppedAndKeptElements() {
        let html = """
            <html><head><title>T</title><meta name="x" content="y">head text</head>
            <body><template><p>tpl</p></template><select><option>Choice</option></select>
            <svg><svg><title>i</title></svg><text>t</text></svg><iframe>frame</iframe>
            <div aria-hidden="TRUE">aria</div><div aria-hidden="false">shown</div>
            <nav>navigation</nav><footer>footer</footer><textarea>typed &amp; kept</textarea>
            <p hidden>p is not dropped: its end tag is optional</p></body></html>
            """
        let page = extractHTML(html)
        #expect(page.title == "T")
        #expect(page.text == "shown\n\nnavigation\n\nfooter\n\ntyped & kept\n\np is not dropped: its end tag is optional")
        // Only the first title counts, and never an SVG's.
        #expect(extractHTML("<svg><title>icon</title></svg><title>Real</title><title>Second</title>").title == "Real")
        #expect(extractHTML("<p>no title</p>").title == nil)
        #expect(extractHTML("<title>  \n </title>").title == nil)
    }

    @Test func links() {
        let page = extractHTML(
            """
            <a href=" /a\n ">A <b>bold</b>
            text</a><a href="javascript:void(0)">js</a><a href="#frag">frag</a><a>no href</a>
            <a href=/unquoted>unquoted<a href='/next' aria-label="Next page"></a>
            """)
        #expect(
            page.links == [
                PageLink(text: "A bold text", url: "/a"),
                PageLink(text: "unquoted", url: "/unquoted"),
                PageLink(text: "Next page", url: "/next"),
            ])
        let long = extractHTML("<a href='/long'>" + String(repeating: "é", count: 400) + "</a>").links[0].text
        #expect(long.utf8.count <= HTMLText.maxLinkTextBytes + 3 && long.hasSuffix("…") && long.hasPrefix("éé"))
    }

    @Test func latin1Pages() {
        // "Crème brûlée", "Coût: 5 € “quoted”" in windows-1252.
        let body: [UInt8] =
            Array("<html><head><title>Cr".utf8) + [0xE8] + Array("me br".utf8) + [0xFB] + Array("l".utf8) + [0xE9]
            + Array("e</title></head><body><p>Co".utf8) + [0xFB] + Array("t: 5 ".utf8) + [0x80, 0x20, 0x93]
            + Array("quoted".utf8) + [0x94] + Array("</p></body></html>".utf8)
        let page = HTMLText.extract(body, contentType: "text/html; charset=ISO-8859-1")
        #expect(page.title == "Crème brûlée")
        #expect(page.text == "Coût: 5 € “quoted”")

        let meta = Array("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">".utf8) + body
        #expect(HTMLText.extract(meta, contentType: "text/html").text == "Coût: 5 € “quoted”")
        let metaCharset = Array("<META CHARSET='windows-1252'>".utf8) + body
        #expect(HTMLText.extract(metaCharset, contentType: nil).title == "Crème brûlée")
        // The header wins over <meta>; invalid UTF-8 becomes U+FFFD.
        #expect(HTMLText.extract(meta, contentType: "text/html; charset=\"utf-8\"").title == "Cr\u{FFFD}me br\u{FFFD}l\u{FFFD}e")
        #expect(HTMLText.extract(Array("<p>a".utf8) + [0xFF, 0xC3] + Array("b".utf8), contentType: nil).text == "a\u{FFFD}\u{FFFD}b")
        // A UTF-8 byte-order mark wins over everything.
        #expect(HTMLText.extract([0xEF, 0xBB, 0xBF] + Array("<p>é".utf8), contentType: "text/html; charset=latin1").text == "é")
        // Plain text in Latin-1.
        #expect(HTMLText.extract([0x63, 0x61, 0x66, 0xE9], contentType: "text/plain; charset=iso-8859-1").text == "café")
    }

    @Test func plainTextIsTakenAsIs() {
        let body = "Title\r\n<b>not a tag</b> &amp;\n\n\n\n  end  \n"
        let page = HTMLText.extract(Array(body.utf8), contentType: "text/plain; charset=utf-8")
        #expect(page == ExtractedPage(title: nil, text: "Title\n<b>not a tag</b> &amp;\n\n\n\n  end  \n", links: []))
        #expect(HTMLText.extract(Array("{\"a\": \"<b>\"}".utf8), contentType: "application/json").text == "{\"a\": \"<b>\"}")
        // Without a type, markup is recognised by its first character.
        #expect(HTMLText.extract(Array("plain <b>text</b>".utf8), contentType: nil).text == "plain <b>text</b>")
        #expect(HTMLText.extract(Array("\n  <p>markup</p>".utf8), contentType: nil).text == "markup")
        #expect(HTMLText.extract(Array("<p>x</p>".utf8), contentType: "application/xhtml+xml").text == "x")
    }

    @Test func inputIsCapped() {
        var body = Array("<p>".utf8)
        body += [UInt8](repeating: UInt8(ascii: "a"), count: HTMLText.maxInputBytes)
        body += Array("</p><p>beyond the cap</p>".utf8)
        let page = HTMLText.extract(body, contentType: "text/html")
        #expect(page.text.utf8.count == HTMLText.maxInputBytes - 3)
        #expect(!page.text.contains("beyond"))
    }

    @Test func pathologicalInputsStayLinear() {
        // Each of these would be quadratic with naive re-scanning; here they finish at once.
        let n = 20_000
        let cases = [
            String(repeating: "<a href=\"x ", count: n),
            String(repeating: "<!-- ", count: n),
            String(repeating: "<div hidden>x", count: n),
            String(repeating: "<script>x", count: n),
            String(repeating: "<title>x", count: n),
            String(repeating: "<p>&#x", count: n),
            String(repeating: "<", count: n),
            String(repeating: "<ul><li>", count: n) + "deep",
        ]
        for html in cases {
            let page = extractHTML(html)
            #expect(!page.text.contains("\n\n\n"))
        }
        #expect(extractHTML(String(repeating: "<ul><li>", count: 50) + "deep").text.hasSuffix("                - deep"))
    }

    /// 2000 seeded random mutations of the fixture: extraction must not trap, and its output keeps
    /// its invariants.
    @Test func randomMutationsNeverTrap() {
        var rng = SplitMix64(state: 0x5EED_CAFE)
        let base = Array(webFixturePage.utf8)
        let tokens: [[UInt8]] = [
            "<", ">", "\"", "'", "&", "&#", "&#x", ";", "</", "<!--", "-->", "<!", "<script>", "</script>", "<pre>",
            "</pre>", "</div>", "<div hidden>", "<svg>", "</svg>", "<title>", "<a href=\"", "</a>", "=", "/", "\n", "\r",
            "&amp", "<li>", "</ul>", "<h3>", "\u{A0}", "é", "😀", "<br>", "<td>", "<template>", "<head>", "<plaintext>",
        ].map { Array($0.utf8) }
        for round in 0..<2000 {
            var doc = base
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let at = Int.random(in: 0...doc.count, using: &rng)
                switch Int.random(in: 0..<6, using: &rng) {
                case 0, 1:
                    doc.insert(contentsOf: tokens.randomElement(using: &rng)!, at: at)
                case 2:
                    doc.removeSubrange(at..<min(doc.count, at + Int.random(in: 1...64, using: &rng)))
                case 3:
                    if at < doc.count { doc[at] = UInt8.random(in: 0...255, using: &rng) }
                case 4:
                    let end = min(doc.count, at + Int.random(in: 1...200, using: &rng))
                    doc.insert(contentsOf: doc[at..<end], at: Int.random(in: 0...doc.count, using: &rng))
                default:
                    if Int.random(in: 0..<4, using: &rng) == 0 { doc.removeSubrange(at...) }
                }
            }
            let page = HTMLText.extract(doc, contentType: round % 3 == 0 ? nil : "text/html")
            if round % 3 == 0 && !HTMLText.looksLikeHTML(doc) { continue }
            #expect(!page.text.contains("\n\n\n"), "round \(round)")
            #expect(!page.text.hasPrefix("\n") && page.text.last?.isWhitespace != true, "round \(round)")
            let window = PageWindow.window(page.text, startLine: round % 7, maxBytes: 64 + round % 200)
            #expect(window.text.utf8.count <= 64 + round % 200, "round \(round)")
            _ = FindInPage.find(page.text, pattern: "caf", maxMatches: 5, contextChars: round % 50)
        }
    }
}

@Suite("page windows and find")
struct PageWindowTests {
    @Test func windowsNumberLinesAndContinue() {
        let text = "héllo\nwörld\n\nlast line"
        let all = PageWindow.window(text, startLine: 0, maxBytes: 1000)
        #expect(all.text == "L0: héllo\nL1: wörld\nL2:\nL3: last line")
        #expect(all.nextLine == nil && all.totalLines == 4)

        let first = PageWindow.window(text, startLine: 0, maxBytes: 22)  // "L0: héllo\nL1: wörld" is 21 bytes
        #expect(first.text == "L0: héllo\nL1: wörld")
        #expect(first.nextLine == 2 && first.totalLines == 4)
        let rest = PageWindow.window(text, startLine: 2, maxBytes: 22)
        #expect(rest.text == "L2:\nL3: last line" && rest.nextLine == nil)

        #expect(PageWindow.window(text, startLine: 4, maxBytes: 100) == ("", nil, 4))
        #expect(PageWindow.window(text, startLine: -3, maxBytes: 12).text == "L0: héllo")
        #expect(PageWindow.window("", startLine: 0, maxBytes: 100) == ("", nil, 0))
        #expect(PageWindow.window("a\nb\n", startLine: 0, maxBytes: 100) == ("L0: a\nL1: b", nil, 2))
    }

    @Test func longLinesAreCutOnCharacterBoundaries() {
        let emoji = String(repeating: "😀", count: 10)
        for maxBytes in 0...43 {
            let window = PageWindow.window(emoji + "\nnext", startLine: 0, maxBytes: maxBytes)
            #expect(window.nextLine == 1 && window.totalLines == 2)
            #expect(window.text.hasPrefix("L0: ") && window.text.hasSuffix("…"), "\(maxBytes)")
            #expect(window.text.utf8.count <= max(maxBytes, 7), "\(maxBytes)")
            #expect(!window.text.unicodeScalars.contains("\u{FFFD}"))
        }
        #expect(PageWindow.window(emoji, startLine: 0, maxBytes: 15).text == "L0: 😀😀…")
        #expect(PageWindow.window(emoji, startLine: 0, maxBytes: 44).text == "L0: " + emoji)
    }

    @Test func pagingVisitsEveryLineOnce() {
        let lines = (0..<500).map { "line \($0) " + String(repeating: "ß", count: $0 % 37) }
        let text = lines.joined(separator: "\n")
        var seen: [String] = []
        var next: Int? = 0
        while let start = next {
            let window = PageWindow.window(text, startLine: start, maxBytes: 700)
            #expect(window.text.utf8.count <= 700)
            seen += window.text.split(separator: "\n").map(String.init)
            next = window.nextLine
        }
        #expect(seen == lines.enumerated().map { "L\($0.offset): \($0.element)" })
    }

    @Test func findIsCaseInsensitiveWithLineNumbers() {
        let text = "Alpha\nbeta GAMMA delta\ngamma ray\n\nÉcole and ÉCOLE"
        let matches = FindInPage.find(text, pattern: "Gamma", contextChars: 6)
        #expect(matches == [PageMatch(line: 1, snippet: "…beta GAMMA delta…"), PageMatch(line: 2, snippet: "…delta gamma ray…")])
        for match in matches {
            #expect(PageWindow.window(text, startLine: match.line, maxBytes: 100).text.lowercased().contains("gamma"))
        }
        #expect(FindInPage.find(text, pattern: "école").map(\.line) == [4, 4])
        #expect(FindInPage.find(text, pattern: "alpha", contextChars: 100) == [PageMatch(line: 0, snippet: "Alpha beta GAMMA delta gamma ray École and ÉCOLE")])
        // A pattern across lines reports the line where it starts.
        #expect(FindInPage.find(text, pattern: "ray\n\nécole").map(\.line) == [2])
        #expect(FindInPage.find(text, pattern: "").isEmpty)
        #expect(FindInPage.find(text, pattern: "absent").isEmpty)
        #expect(FindInPage.find(text, pattern: "a", maxMatches: 0).isEmpty)
        // Not a regular expression; matches do not overlap.
        #expect(FindInPage.find("a.c abc a.c", pattern: "a.c").count == 2)
        #expect(FindInPage.find("aaaaa", pattern: "aa", contextChars: 0) == [PageMatch(line: 0, snippet: "aa…"), PageMatch(line: 0, snippet: "…aa…")])
        #expect(FindInPage.find(String(repeating: "x\n", count: 100), pattern: "X", maxMatches: 3).map(\.line) == [0, 1, 2])
    }
}

@Suite("SearXNG")
struct SearXNGTests {
    static let response = """
        {
          "query": "swift concurrency",
          "number_of_results": 0,
          "results": [
            {
              "url": "https://www.swift.org/documentation/concurrency/",
              "title": "Concurrency | Swift.org",
              "content": "Swift has built-in support for writing <span class=\\"highlight\\">concurrent</span> code &amp; more.",
              "publishedDate": null,
              "engine": "duckduckgo",
              "parsed_url": ["https", "www.swift.org", "/documentation/concurrency/", "", "", ""],
              "template": "default.html",
              "engines": ["duckduckgo", "brave"],
              "positions": [1, 2],
              "score": 4.0,
              "category": "general"
            },
            {
              "url": "ftp://files.example.com/swift.tar.gz",
              "title": "Not a web page",
              "content": "",
              "engine": "bing"
            },
            {
              "title": "No URL at all",
              "content": "x",
              "engine": "bing"
            },
            {
              "url": "HTTPS://WWW.SWIFT.ORG/documentation/concurrency#top",
              "title": "Concurrency (duplicate)",
              "content": "Same page again.",
              "engine": "google"
            },
            {
              "url": "https://developer.apple.com/documentation/swift/concurrency",
              "title": "<b>Concurrency</b> | Apple   Developer\\nDocumentation",
              "content": "Perform asynchronous and parallel operations.",
              "publishedDate": "2024-06-10T00:00:00",
              "engine": "google",
              "thumbnail": null
            },
            {
              "url": "http://example.org/blog/actors",
              "title": "",
              "content": "Actors &mdash; isolation explained&hellip;",
              "publishedDate": "",
              "engine": "brave"
            },
            {
              "url": "https://forums.swift.org/t/sendable/123",
              "title": "Sendable checking",
              "engine": "brave"
            }
          ],
          "answers": [],
          "corrections": [],
          "infoboxes": [
            {"infobox": "Swift", "id": "https://en.wikipedia.org/wiki/Swift_(programming_language)", "content": "A language", "urls": [{"title": "Official site", "url": "https://swift.org"}], "engine": "wikipedia"}
          ],
          "suggestions": ["swift async await"],
          "unresponsive_engines": [["qwant", "timeout"]]
        }
        """

    @Test func requestURLs() {
        #expect(
            SearXNG.requestURL(base: "https://search.example.org/", query: "swift & c++ ünïcode/?#", page: 2, language: "en-US", timeRange: nil)
                == "https://search.example.org/search?q=swift%20%26%20c%2B%2B%20%C3%BCn%C3%AFcode%2F%3F%23&format=json&pageno=2&language=en-US")
        #expect(
            SearXNG.requestURL(base: "http://searx.internal:8888/searxng", query: "a~b_c.d-e", page: 0, language: "", timeRange: "month")
                == "http://searx.internal:8888/searxng/search?q=a~b_c.d-e&format=json&pageno=1&time_range=month")
        #expect(
            SearXNG.requestURL(base: " HTTPS://Search.Example.org// ", query: "x", page: 1, language: nil, timeRange: nil)
                == "HTTPS://Search.Example.org/search?q=x&format=json&pageno=1")
        for base in ["ftp://x.org", "search.example.org", "https://", "http:///path", "https://x.org/?q=1", "https://x.org/#f", "https://a b.org", "", "javascript:alert(1)"] {
            #expect(SearXNG.requestURL(base: base, query: "x", page: 1, language: nil, timeRange: nil) == nil, "\(base)")
        }
    }

    @Test func parsesResults() throws {
        let results = try SearXNG.parseResults(Array(Self.response.utf8), limit: 10)
        #expect(
            results == [
                SearchResult(
                    title: "Concurrency | Swift.org", url: "https://www.swift.org/documentation/concurrency/",
                    snippet: "Swift has built-in support for writing concurrent code & more."),
                SearchResult(
                    title: "Concurrency | Apple Developer Documentation", url: "https://developer.apple.com/documentation/swift/concurrency",
                    snippet: "Perform asynchronous and parallel operations.", publishedDate: "2024-06-10T00:00:00"),
                SearchResult(title: "http://example.org/blog/actors", url: "http://example.org/blog/actors", snippet: "Actors — isolation explained…"),
                SearchResult(title: "Sendable checking", url: "https://forums.swift.org/t/sendable/123", snippet: ""),
            ])
        #expect(try SearXNG.parseResults(Array(Self.response.utf8), limit: 2).map(\.url) == [results[0].url, results[1].url])
        #expect(try SearXNG.parseResults(Array(Self.response.utf8), limit: 0).isEmpty)
        #expect(try SearXNG.parseResults(Array(#"{"query":"q","results":[]}"#.utf8), limit: 5).isEmpty)
        // A later duplicate fills in a missing snippet.
        let filled = try SearXNG.parseResults(
            Array(#"{"results":[{"url":"https://a.org/x","title":"A"},{"url":"https://A.org/x/","content":"found"}]}"#.utf8), limit: 5)
        #expect(filled == [SearchResult(title: "A", url: "https://a.org/x", snippet: "found")])
    }

    @Test func badResponsesAreErrors() {
        for body in ["<html>Too many requests</html>", "{\"results\": [", "", "[1, 2]", "{\"query\": \"x\"}", "{\"results\": {}}"] {
            #expect(throws: WebContentError.self, "\(body)") { try SearXNG.parseResults(Array(body.utf8), limit: 5) }
        }
        do {
            _ = try SearXNG.parseResults(Array("not json".utf8), limit: 5)
            Issue.record("parsed")
        } catch {
            #expect(error.message.contains("not valid JSON"))
        }
    }

    @Test func formatsResultsForTheModel() throws {
        let results = try SearXNG.parseResults(Array(Self.response.utf8), limit: 10)
        let full = SearchResultsText.format(results, query: "swift concurrency", maxBytes: 10_000)
        #expect(
            full == """
                Search results for "swift concurrency":

                [1] Concurrency | Swift.org
                https://www.swift.org/documentation/concurrency/
                Swift has built-in support for writing concurrent code & more.

                [2] Concurrency | Apple Developer Documentation
                https://developer.apple.com/documentation/swift/concurrency
                Published: 2024-06-10T00:00:00
                Perform asynchronous and parallel operations.

                [3] http://example.org/blog/actors
                http://example.org/blog/actors
                Actors — isolation explained…

                [4] Sendable checking
                https://forums.swift.org/t/sendable/123
                """)
        let short = SearchResultsText.format(results, query: "swift concurrency", maxBytes: 450)
        #expect(short.utf8.count <= 450)
        #expect(short.contains("[2] Concurrency | Apple") && !short.contains("[3]"))
        #expect(short.hasSuffix("(2 more results were left out to stay within the size limit.)"))
        for maxBytes in stride(from: 0, through: 700, by: 7) {
            #expect(SearchResultsText.format(results, query: "swift concurrency", maxBytes: maxBytes).utf8.count <= maxBytes)
        }
        // A first result too long for the limit keeps a shortened snippet.
        let long = [SearchResult(title: "T", url: "https://t.org", snippet: String(repeating: "word ", count: 200))] + results
        let cut = SearchResultsText.format(long, query: "q", maxBytes: 300)
        #expect(cut.contains("[1] T\nhttps://t.org\nword word") && cut.contains("…") && cut.utf8.count <= 300)
        #expect(SearchResultsText.format([], query: "nothing", maxBytes: 100) == "No results for \"nothing\".")
    }
}

@Suite("domain allow-lists")
struct DomainMatchTests {
    @Test func subdomainsMatchButLookalikesDoNot() {
        let domains = ["example.com", "*.Docs.Swift.org", "sub.test.", "10.0.0.1", "", "*."]
        for host in ["example.com", "a.example.com", "A.B.EXAMPLE.COM.", "docs.swift.org", "x.docs.swift.org", "sub.test", "a.sub.test", "10.0.0.1"] {
            #expect(DomainMatch.host(host, matchesAny: domains), "\(host)")
        }
        for host in ["badexample.com", "example.com.evil.org", "example.co", "swift.org", "xdocs.swift.org", "test", "110.0.0.1", "1.10.0.0.1", "", "com"] {
            #expect(!DomainMatch.host(host, matchesAny: domains), "\(host)")
        }
        #expect(!DomainMatch.host("example.com", matchesAny: []))
        #expect(DomainMatch.host("example.com", matchesAny: [".example.com"]))
    }
}
