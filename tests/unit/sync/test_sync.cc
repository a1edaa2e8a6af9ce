// SPDX-License-Identifier: BSD-3-Clause
// CMocka unit tests of what `ringfence sync` decides without a network: the
// feed parser and the never-block check, the `set ... url` and `never`
// grammar, the bundle manifest and layout, the scope, base64, and minisign
// verification (signatures made here with OpenSSL's own signing, then
// altered byte by byte).
#include <openssl/evp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../firewall/compile_helper.h"
#include "cli/bundle.h"
#include "core/http_fetch.h"
#include "core/minisign.h"
#include "iptables_helper/feeds.h"

using namespace ringfence;
using firewall::FeedFormat;

namespace {

constexpr time_t kNow = 1796400000;  // 2026-12-04

struct FeedRow {
    const char* name;
    FeedFormat format;
    size_t max;
    std::string text;
    const char* error;  // "" = ok
    size_t v4, v6;
};

void test_parse_feed(void**) {
    const FeedRow rows[] = {
        {"plain", FeedFormat::plain, 10, "# c\n198.51.100.0/24\n\n203.0.113.7 # x\n2001:db8::/32\n", "", 2, 1},
        {"semicolon comment", FeedFormat::plain, 10, "; c\n198.51.100.1 ; y\n", "", 1, 0},
        {"crlf", FeedFormat::plain, 10, "198.51.100.1\r\n198.51.100.2\r\n", "", 2, 0},
        {"duplicates once", FeedFormat::plain, 2, "198.51.100.1\n198.51.100.1\n198.51.100.2\n", "", 2, 0},
        {"no final newline", FeedFormat::plain, 10, "198.51.100.1", "", 1, 0},
        {"junk", FeedFormat::plain, 10, "198.51.100.1\nhello\n", "line 2: 'hello' is not an address", 0, 0},
        {"two words", FeedFormat::plain, 10, "198.51.100.1 198.51.100.2\n", "line 1: expected one address", 0, 0},
        {"too many", FeedFormat::plain, 2, "198.51.100.1\n198.51.100.2\n198.51.100.3\n", "more than 2 entries", 0,
         0},
        {"empty", FeedFormat::plain, 10, "# nothing\n\n", "no entries", 0, 0},
        {"nothing at all", FeedFormat::plain, 10, "", "no entries", 0, 0},
        {"mapped counts as IPv4", FeedFormat::plain, 10, "::ffff:198.51.100.1\n", "", 1, 0},
        {"bad prefix", FeedFormat::plain, 10, "198.51.100.0/33\n", "line 1:", 0, 0},
        {"long line", FeedFormat::plain, 10, std::string(2000, '1') + "\n", "longer than 1024", 0, 0},
        {"spamhaus", FeedFormat::spamhaus, 10,
         "; Spamhaus DROP List\n; Expires: Fri, 01 Jan 2100 00:00:00 GMT\n198.51.100.0/24 ; SBL1\n"
         "2001:db8::/32 ; SBL2\n",
         "", 1, 1},
        {"spamhaus expired", FeedFormat::spamhaus, 10,
         "; Expires: Mon, 01 Jan 2024 00:00:00 GMT\n198.51.100.0/24 ; SBL1\n", "the list expired at 2024-01-01", 0,
         0},
        {"spamhaus bad date", FeedFormat::spamhaus, 10, "; Expires: tomorrow\n198.51.100.0/24 ; SBL1\n",
         "unreadable Expires", 0, 0},
        {"spamhaus without SBL", FeedFormat::spamhaus, 10, "198.51.100.0/24\n", "expected 'CIDR ; SBLnnn'", 0, 0},
        {"spamhaus only comment", FeedFormat::spamhaus, 10, " ; SBL1\n", "no entries", 0, 0},
    };
    for (const FeedRow& r : rows) {
        firewall::FeedParse p = firewall::parse_feed(r.text, r.format, r.max, kNow);
        if (r.error[0] == '\0') {
            CHECK(p.list.has_value(), std::string(r.name) + ": " + p.error);
            CHECK_INT(p.list->v4.size(), r.v4, r.name);
            CHECK_INT(p.list->v6.size(), r.v6, r.name);
        } else {
            CHECK(!p.list.has_value(), r.name);
            CHECK(unit::contains(p.error, r.error), std::string(r.name) + ": " + p.error);
        }
    }
}

firewall::FeedList list_of(const std::string& text) {
    firewall::FeedParse p = firewall::parse_feed(text, FeedFormat::plain, 100, kNow);
    return *p.list;
}

void test_check_feed(void**) {
    std::string err;
    std::vector<firewall::Protected> protect = {
        {*core::CidrRange::parse("10.9.0.0/24", &err), "a management network"},
        {*core::CidrRange::parse("192.0.2.1/32", &err), "the never list"},
        {*core::CidrRange::parse("2001:db8:1::/48", &err), "v6 admins"},
    };
    struct Row {
        const char* feed;
        const char* refusal;  // "" = accepted
    } rows[] = {
        {"198.51.100.0/24\n", ""},
        {"10.8.0.0/24\n", ""},
        {"10.9.0.0/16\n", "'10.9.0.0/16' overlaps 10.9.0.0/24, a management network"},  // holds it
        {"10.9.0.5\n", "overlaps 10.9.0.0/24"},                                            // inside it
        {"192.0.2.0/24\n", "the never list"},
        {"0.0.0.0/0\n", "'0.0.0.0/0' lists every address"},
        {"::/0\n", "lists every address"},
        {"2001:db8::/32\n", "v6 admins"},
        {"2001:db8:2::/48\n", ""},
        {"::ffff:0:0/96\n", "'0.0.0.0/0' lists every address"},  // all of IPv4, mapped
    };
    for (const Row& r : rows) {
        firewall::FeedParse p = firewall::parse_feed(r.feed, FeedFormat::plain, 100, kNow);
        std::string got = p.list ? firewall::check_feed(*p.list, protect) : p.error;
        if (r.refusal[0] == '\0') {
            CHECK_STR(got, "", r.feed);
        } else {
            CHECK(unit::contains(got, r.refusal), std::string(r.feed) + " -> " + got);
        }
    }
    // Loopback is always protected, and so are allow-in sources.
    unit::Compiled c = unit::compile("never 192.0.2.1\nallow in tcp/22 from 10.9.0.0/24 2001:db8:9::/48\n");
    CHECK(c.policy->valid(), c.text());
    auto pp = firewall::policy_protected(*c.policy);
    CHECK(unit::contains(firewall::check_feed(list_of("127.0.0.0/16\n"), pp), "loopback"), "");
    CHECK(unit::contains(firewall::check_feed(list_of("::1\n"), pp), "loopback"), "");
    CHECK(unit::contains(firewall::check_feed(list_of("192.0.2.1\n"), pp), "never list"), "");
    CHECK(unit::contains(firewall::check_feed(list_of("10.9.0.77\n"), pp), "management network"), "");
    CHECK(unit::contains(firewall::check_feed(list_of("2001:db8:9::1\n"), pp), "management network"), "");
    CHECK_STR(firewall::check_feed(list_of("198.51.100.0/24\n"), pp), "", "");
    std::string cache = firewall::render_feed_cache(list_of("198.51.100.0/24\n2001:db8::1\n"), "https://x/");
    CHECK(unit::contains(cache, "\n198.51.100.0/24\n2001:db8::1/128\n"), cache);
}

void test_url_sets(void**) {
    unit::Compiled c = unit::compile(
        "set drop url https://example.org/drop.txt every 12h format spamhaus max 5000\n"
        "set site url https://example.org/site.txt cache feeds/site.list\n"
        "never 192.0.2.1 2001:db8::/48\n"
        "deny in from drop site\n",
        {{"/etc/ringfence/feeds/site.list", "# last good\n198.51.100.0/24\n"}});
    CHECK(c.policy->valid(), c.text());
    const firewall::AddressSet* drop = c.policy->find_set("drop");
    CHECK(drop != nullptr && drop->feed.has_value(), "");
    CHECK_STR(drop->feed->url, "https://example.org/drop.txt", "");
    CHECK_INT(drop->feed->every_seconds, 12 * 3600, "");
    CHECK(drop->feed->format == FeedFormat::spamhaus, "");
    CHECK_INT(drop->feed->max_entries, 5000, "");
    CHECK_STR(drop->path, "/var/lib/ringfence/feeds/drop.list", "default cache path");
    CHECK_INT(drop->v4.size() + drop->v6.size(), 0, "not fetched yet: empty");
    const firewall::AddressSet* site = c.policy->find_set("site");
    CHECK_INT(site->v4.size(), 1, "read from the cache file");
    CHECK_INT(site->feed->every_seconds, 3600, "default every");
    CHECK_INT(site->feed->max_entries, 100000, "default max");
    CHECK_INT(c.policy->never().size(), 2, "");

    struct Row {
        const char* text;
        const char* error;
    } rows[] = {
        {"set a url http://example.org/a.txt\n", "is not an https:// URL"},
        {"set a url\n", "expected a URL after 'url'"},
        {"set a url https://x/ every 10s\n", "not a duration of at least a minute"},
        {"set a url https://x/ every soon\n", "not a duration"},
        {"set a url https://x/ format csv\n", "unknown feed format"},
        {"set a url https://x/ max 0\n", "is not an entry count"},
        {"set a url https://x/ max 99999999\n", "is not an entry count"},
        {"set a url https://x/ colour blue\n", "unexpected 'colour'"},
        {"set a url https://x/ every\n", "expected a value after 'every'"},
        {"never\n", "expected addresses after 'never'"},
        {"never example.org\n", "error:"},
    };
    for (const Row& r : rows) {
        unit::Compiled e = unit::compile(r.text);
        CHECK(!e.policy->valid(), r.text);
        CHECK(unit::contains(e.text(), r.error), std::string(r.text) + e.text());
    }
    // A cache file with junk is an error of the policy (ringfence sync never writes one).
    unit::Compiled bad = unit::compile("set a url https://x/ cache a.list\n", {{"/etc/ringfence/a.list", "junk\n"}});
    CHECK(!bad.policy->valid(), bad.text());
    CHECK(unit::contains(bad.text(), "/etc/ringfence/a.list:1:1: error:"), bad.text());
}

const char kHash[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string manifest_text(const std::string& extra) {
    return "ringfence-bundle 1\nserial 7\nissued 2026-12-04T12:00:00Z\nexpires 2027-01-03T12:00:00Z\n"
           "scope console1 @esx\n" + extra;
}

void test_manifest(void**) {
    std::string err;
    auto m = cli::parse_manifest(manifest_text(std::string("file access.conf ") + kHash + "\nfile sets/bad.list " +
                                               kHash + "\n# comment\n"),
                                 &err);
    CHECK(m.has_value(), err);
    CHECK_INT(m->serial, 7, "");
    CHECK_INT(m->files.size(), 2, "");
    CHECK_INT(m->expires - m->issued, 30 * 86400, "");
    CHECK_STR(cli::render_manifest(*m), manifest_text(std::string("file access.conf ") + kHash +
                                                      "\nfile sets/bad.list " + kHash + "\n"),
              "render is parse's inverse");
    struct Row {
        std::string text;
        const char* error;
    } rows[] = {
        {"serial 1\n", "expected 'ringfence-bundle 1' first"},
        {manifest_text(""), "lists no file"},
        {manifest_text(std::string("file ../passwd ") + kHash + "\n"), "is not a bundle file"},
        {manifest_text(std::string("file /etc/passwd ") + kHash + "\n"), "is not a bundle file"},
        {manifest_text(std::string("file access.d/x.txt ") + kHash + "\n"), "is not a bundle file"},
        {manifest_text(std::string("file sets/a/b ") + kHash + "\n"), "is not a bundle file"},
        {manifest_text(std::string("file sets/.. ") + kHash + "\n"), "is not a bundle file"},
        {manifest_text("file access.conf 0123\n"), "expected the SHA-256"},
        {manifest_text(std::string("file hosts.allow ") + kHash + "\nfile hosts.allow " + kHash + "\n"),
         "listed twice"},
        {manifest_text(std::string("file hosts.allow ") + kHash + "\nowner me\n"), "unexpected 'owner me'"},
        {"ringfence-bundle 1\nserial 1\nissued 2026-12-04T12:00:00Z\nscope *\nfile hosts.allow " +
             std::string(kHash) + "\n",
         "needs ringfence-bundle 1, serial, issued, expires and scope"},
        {"ringfence-bundle 1\nserial x\n", "serial must be a number"},
        {"ringfence-bundle 1\nissued yesterday\n", "expected a UTC time"},
        {"ringfence-bundle 1\nserial 2\nissued 2026-12-04T12:00:00Z\nexpires 2026-12-04T12:00:00Z\nscope *\n"
         "file hosts.allow " +
             std::string(kHash) + "\n",
         "expires is not after issued"},
    };
    for (const Row& r : rows) {
        std::string why;
        CHECK(!cli::parse_manifest(r.text, &why).has_value(), r.text);
        CHECK(unit::contains(why, r.error), r.text + " -> " + why);
    }
}

void test_layout_and_scope(void**) {
    const std::map<std::string, std::string> dest = {
        {"access.conf", "/etc/security/access.conf"},
        {"access.d/10-site.conf", "/etc/security/access.d/10-site.conf"},
        {"hosts.allow", "/etc/hosts.allow"},
        {"hosts.deny", "/etc/hosts.deny"},
        {"firewall.conf", "/etc/ringfence/firewall.conf"},
        {"sets/bad.list", "/etc/ringfence/sets/bad.list"},
        {"sync.conf", ""},
        {"passwd", ""},
        {"access.d/.hidden.conf", ""},
        {"sets/", ""},
        {"sets/a b", ""},
        {"../hosts.allow", ""},
    };
    for (const auto& [name, want] : dest) {
        CHECK_STR(cli::bundle_destination(name), want, name);
    }
    CHECK(cli::scope_matches({"console1"}, "CONSOLE1", {}), "host names ignore case");
    CHECK(cli::scope_matches({"other", "@esx"}, "console1", {"esx"}), "");
    CHECK(cli::scope_matches({"*"}, "console1", {}), "");
    CHECK(!cli::scope_matches({"console2", "@esx"}, "console1", {"lab"}), "");
    CHECK(!cli::scope_matches({"@"}, "console1", {""}), "");
}

void test_base64(void**) {
    CHECK_STR(*core::base64_decode("aGVsbG8="), "hello", "");
    CHECK_STR(*core::base64_decode("aGVsbG8h"), "hello!", "");
    CHECK_STR(*core::base64_decode("aGk="), "hi", "");
    CHECK_STR(*core::base64_decode("aA=="), "h", "");
    CHECK_STR(*core::base64_decode(""), "", "");
    for (const char* bad : {"aGk", "aGk*", "a=Gk", "aA==aA==", "aGVsbG8=\n", "a===", "aGl=", "aB=="}) {
        CHECK(!core::base64_decode(bad).has_value(), bad);
    }
}

// A minisign key and signatures made with OpenSSL's signing side.
struct Signer {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
    std::string id = std::string("\x01\x02\x03\x04\x05\x06\x07\xf8", 8);
    std::string pk;

    Signer() {
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
        EVP_PKEY* k = nullptr;
        EVP_PKEY_keygen_init(ctx);
        EVP_PKEY_keygen(ctx, &k);
        EVP_PKEY_CTX_free(ctx);
        key.reset(k);
        unsigned char raw[32];
        size_t n = sizeof raw;
        EVP_PKEY_get_raw_public_key(k, raw, &n);
        pk.assign(reinterpret_cast<char*>(raw), n);
    }
    std::string sign(const std::string& msg) const {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        unsigned char sig[64];
        size_t n = sizeof sig;
        EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key.get());
        EVP_DigestSign(ctx, sig, &n, reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
        EVP_MD_CTX_free(ctx);
        return std::string(reinterpret_cast<char*>(sig), n);
    }
    static std::string b64(const std::string& s) {
        std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
        int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                                reinterpret_cast<const unsigned char*>(s.data()), int(s.size()));
        out.resize(size_t(n));
        return out;
    }
    std::string public_key() const { return "untrusted comment: test key\n" + b64("Ed" + id + pk) + "\n"; }
    std::string minisig(const std::string& file, const std::string& trusted, const char* alg = "ED") const {
        unsigned char h[64];
        unsigned int hl = 0;
        EVP_Digest(file.data(), file.size(), h, &hl, EVP_blake2b512(), nullptr);
        std::string signed_part = std::string(alg) == "ED" ? std::string(reinterpret_cast<char*>(h), hl) : file;
        std::string sig = sign(signed_part);
        std::string global = sign(sig + trusted);
        return "untrusted comment: sig\n" + b64(alg + id + sig) + "\ntrusted comment: " + trusted + "\n" +
               b64(global) + "\n";
    }
};

void test_minisign(void**) {
    Signer s, other;
    other.id = std::string("\x11\x12\x13\x14\x15\x16\x17\x18", 8);
    std::string err;
    auto key = core::parse_minisign_key(s.public_key(), &err);
    CHECK(key.has_value(), err);
    CHECK_STR(key->id_hex(), "F807060504030201", "little-endian, as minisign prints it");
    auto okey = core::parse_minisign_key(other.public_key(), &err);
    const std::string msg = "ringfence-bundle 1\nserial 3\n";
    const std::string trusted = "timestamp:1796400000\tfile:MANIFEST\thashed";
    std::string sig = s.minisig(msg, trusted);

    auto v = core::minisign_verify({*key}, msg, sig, &err);
    CHECK(v.has_value(), err);
    CHECK_STR(v->trusted_comment, trusted, "");
    CHECK(core::minisign_verify({*okey, *key}, msg, sig, &err).has_value(), "second of two keys: " + err);

    struct Row {
        std::string name, msg, sig;
        std::vector<core::MinisignKey> keys;
        const char* error;
    } rows[] = {
        {"other content", msg + "x", sig, {*key}, "does not match the content"},
        {"wrong key", msg, sig, {*okey}, "not a trusted key"},
        {"no key", msg, sig, {}, "not a trusted key"},
        {"truncated", msg, sig.substr(0, 60), {*key}, "truncated"},
        {"no global signature", msg, sig.substr(0, sig.rfind('\n', sig.size() - 2) + 1), {*key}, "truncated"},
        {"trusted comment changed", msg,
         std::string(sig).replace(sig.find("timestamp:1796400000"), 20, "timestamp:1796400001"), {*key},
         "trusted comment does not match"},
        {"legacy Ed", msg, s.minisig(msg, trusted, "Ed"), {*key}, "legacy"},
        {"garbage", msg, "untrusted comment: a\n!!!\ntrusted comment: b\nAAAA\n", {*key}, "malformed"},
    };
    for (const Row& r : rows) {
        std::string why;
        CHECK(!core::minisign_verify(r.keys, r.msg, r.sig, &why).has_value(), r.name);
        CHECK(unit::contains(why, r.error), r.name + ": " + why);
    }
    // Every single-byte change of the signature line is refused.
    size_t start = sig.find('\n') + 1, end = sig.find('\n', start);
    for (size_t i = start; i < end; ++i) {
        std::string t = sig;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        std::string why;
        CHECK(!core::minisign_verify({*key}, msg, t, &why).has_value(), "byte " + std::to_string(i));
    }
    for (const char* bad : {"", "RWQ=", "untrusted comment: x\nAAAA\nAAAA\n"}) {
        CHECK(!core::parse_minisign_key(bad, &err).has_value(), bad);
    }
    CHECK_STR(core::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "");
}

void test_fetch_refuses_other_schemes(void**) {
    core::HttpGlobal g;
    for (const char* url : {"http://127.0.0.1/x", "ftp://127.0.0.1/x", "file:///etc/passwd", "https:/x", ""}) {
        core::FetchRequest r;
        r.url = url;
        core::FetchResult res = core::http_fetch(r);
        CHECK(res.status == core::FetchStatus::failed, url);
        CHECK(unit::contains(res.error, "only https:// URLs"), std::string(url) + ": " + res.error);
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_feed),
        cmocka_unit_test(test_check_feed),
        cmocka_unit_test(test_url_sets),
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_layout_and_scope),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_minisign),
        cmocka_unit_test(test_fetch_refuses_other_schemes),
    };
    unit::apply_filters();
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
