import Sandbox
import Testing

@Suite("Egress policy")
struct EgressPolicyTests {
    @Test func domainsMatchThemselvesAndTheirSubdomainsOnly() {
        let policy = EgressPolicy.restricted(allowed: ["example.com", "PyPI.org.", "*.githubusercontent.com"])
        for host in ["example.com", "api.example.com", "a.b.example.com", "EXAMPLE.COM", "example.com.", "Api.Example.Com.", "pypi.org",
                     "files.pypi.org", "raw.githubusercontent.com", "githubusercontent.com"] {
            #expect(policy.permits(host: host), "\(host)")
        }
        for host in ["badexample.com", "example.com.evil.net", "example.co", "com", "xexample.com", "pypi.org.evil", "notpypi.org", "", ".", "..",
                     "example..com", "exa mple.com", "example.com/", "ex%61mple.com", "example.com:443", "user@example.com"] {
            #expect(!policy.permits(host: host), "\(host)")
        }
    }

    @Test func restrictedModes() {
        // Only the allowed domains.
        let allowOnly = EgressPolicy.restricted(allowed: ["pypi.org"])
        #expect(allowOnly.permits(host: "pypi.org"))
        #expect(!allowOnly.permits(host: "example.com"))
        // Everything but the blocked domains.
        let blockOnly = EgressPolicy.restricted(blocked: ["evil.com"])
        #expect(blockOnly.permits(host: "example.com"))
        #expect(!blockOnly.permits(host: "evil.com"))
        #expect(!blockOnly.permits(host: "www.EVIL.com."))
        #expect(blockOnly.permits(host: "notevil.com"))
        // Both: allowed, minus blocked.
        let both = EgressPolicy.restricted(allowed: ["example.com"], blocked: ["secret.example.com"])
        #expect(both.permits(host: "www.example.com"))
        #expect(!both.permits(host: "secret.example.com"))
        #expect(!both.permits(host: "a.secret.example.com"))
        #expect(!both.permits(host: "other.org"))
        // Neither: nothing.
        let nothing = EgressPolicy.restricted()
        for host in ["example.com", "pypi.org", "localhost"] { #expect(!nothing.permits(host: host)) }
        // Enabled: any well-formed name.
        #expect(EgressPolicy.enabled.permits(host: "anything.example"))
        #expect(!EgressPolicy.enabled.permits(host: "bad host"))
        #expect(!EgressPolicy.enabled.permits(host: ""))
    }

    @Test func ipLiteralsOnlyWhenEnabled() {
        let literals = ["1.1.1.1", "8.8.8.8", "[2606:4700::1111]", "2606:4700::1111", "127.1", "2130706433", "0x7f.1", "1.2.3.4."]
        let restricted = EgressPolicy.restricted(allowed: ["1.1.1.1", "2606:4700::1111", "127.1", "2130706433", "0x7f.1", "1.2.3.4"])
        let blockOnly = EgressPolicy.restricted(blocked: ["example.com"])
        for literal in literals {
            #expect(EgressPolicy.enabled.permits(host: literal), "\(literal)")
            #expect(!restricted.permits(host: literal), "\(literal)")
            #expect(!blockOnly.permits(host: literal), "\(literal)")
        }
        #expect(EgressPolicy.isIPLiteral("::1"))
        #expect(EgressPolicy.isIPLiteral("10.0.0.1"))
        #expect(!EgressPolicy.isIPLiteral("1.example.com"))
        #expect(!EgressPolicy.isIPLiteral("0x.example"))
        #expect(!EgressPolicy.enabled.permits(host: "[not:an:address]"))
        #expect(!EgressPolicy.enabled.permits(host: "[1.2.3.4]"))
    }

    @Test func listsAreNormalized() {
        #expect(EgressPolicy.restricted(allowed: [" Example.COM. ", "*.x.org", ".y.net", ""]) == EgressPolicy.restricted(allowed: ["example.com", "x.org", "y.net"]))
    }

    @Test func forbiddenIPv4Ranges() {
        let forbidden = [
            "0.0.0.0", "0.1.2.3", "0.255.255.255",
            "10.0.0.1", "10.255.255.255",
            "100.64.0.0", "100.100.100.200", "100.127.255.255",
            "127.0.0.1", "127.255.255.254", "127.1.2.3",
            "169.254.0.1", "169.254.169.254", "169.254.255.255",
            "172.16.0.1", "172.20.1.1", "172.31.255.255",
            "192.0.0.1", "192.0.0.170", "192.0.0.255",
            "192.168.0.1", "192.168.255.255",
            "198.18.0.1", "198.19.255.255",
            "224.0.0.1", "239.255.255.250", "240.0.0.1", "250.1.2.3", "255.255.255.255",
        ]
        for a in forbidden { #expect(EgressPolicy.isForbidden(address: a), "\(a)") }
        let allowed = [
            "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0",
            "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.1", "192.0.2.1", "192.167.255.255", "192.169.0.0",
            "198.17.255.255", "198.20.0.0", "203.0.113.80", "223.255.255.255",
        ]
        for a in allowed { #expect(!EgressPolicy.isForbidden(address: a), "\(a)") }
    }

    @Test func forbiddenIPv6Ranges() {
        let forbidden = [
            "::", "::1", "[::1]",
            "fc00::1", "fd00::1", "fd00:ec2::254", "fdff:ffff::1",
            "fe80::1", "febf:ffff::1", "fec0::1",
            "ff02::1", "ff05::1:3", "ffff::",
            // Embedded forbidden IPv4: mapped, compatible, translated, NAT64, 6to4.
            "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:192.168.1.1", "::ffff:0.0.0.0",
            "::127.0.0.1", "::10.1.2.3", "::169.254.169.254",
            "::ffff:0:127.0.0.1", "::ffff:0:10.0.0.1",
            "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b::192.168.0.1",
            "64:ff9b:1::1", "64:ff9b:1:ffff::8.8.8.8",
            "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:0a00:0001::",
        ]
        for a in forbidden { #expect(EgressPolicy.isForbidden(address: a), "\(a)") }
        let allowed = [
            "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e",
            "::ffff:1.1.1.1", "::ffff:8.8.8.8", "64:ff9b::1.1.1.1", "64:ff9b::808:808", "2002:0808:0808::1", "::8.8.8.8",
            "fbff:ffff::1", "fe00::1",
        ]
        for a in allowed { #expect(!EgressPolicy.isForbidden(address: a), "\(a)") }
    }

    @Test func addressesParseAndPrint() throws {
        let v4 = try #require(EgressPolicy.Address("169.254.169.254"))
        #expect(v4.bytes == [169, 254, 169, 254])
        #expect(v4.description == "169.254.169.254")
        let v6 = try #require(EgressPolicy.Address("[fd00:ec2::254]"))
        #expect(v6.bytes.count == 16)
        #expect(v6.description == "fd00:ec2::254")
        #expect(EgressPolicy.Address("localhost") == nil)
        #expect(EgressPolicy.Address("127.1") == nil)
        #expect(EgressPolicy.Address(bytes: [1, 2, 3]) == nil)
        // Anything that is not an address is forbidden.
        #expect(EgressPolicy.isForbidden(address: "localhost"))
        #expect(EgressPolicy.isForbidden(address: ""))
    }
}
