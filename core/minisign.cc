// SPDX-License-Identifier: BSD-3-Clause
// minisign verification with OpenSSL 1.1.1 / 3.x: Ed25519 through
// EVP_DigestVerify with no digest, BLAKE2b-512 through EVP_blake2b512.
#include "core/minisign.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

namespace ringfence::core {

namespace {

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        lines.push_back(line);
        if (nl == std::string::npos) {
            break;
        }
        pos = nl + 1;
    }
    while (!lines.empty() && lines.back().empty()) {
        lines.pop_back();
    }
    return lines;
}

bool ed25519_verify(const std::array<uint8_t, 32>& key, const uint8_t* sig, const std::string& message) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()), EVP_PKEY_free);
    if (!pkey) {
        return false;
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
        return false;
    }
    return EVP_DigestVerify(ctx.get(), sig, 64, reinterpret_cast<const unsigned char*>(message.data()),
                            message.size()) == 1;
}

std::optional<std::string> digest(const EVP_MD* md, const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (md == nullptr || EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
        return std::nullopt;
    }
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hex(const uint8_t* p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

const char kUntrusted[] = "untrusted comment:";
const char kTrusted[] = "trusted comment: ";

}  // namespace

std::optional<std::string> base64_decode(const std::string& text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    for (size_t i = 0; i < text.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; ++j) {
            char c = text[i + j];
            if (c == '=' && i + 4 == text.size() && j >= 2) {
                v[j] = 0;
                ++pad;
                continue;
            }
            if (pad > 0) {
                return std::nullopt;  // data after '='
            }
            v[j] = b64_value(c);
            if (v[j] < 0) {
                return std::nullopt;
            }
        }
        uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
        // Canonical only: the bits that padding leaves over must be zero,
        // so that one signature has one spelling.
        if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) {
            return std::nullopt;
        }
        out += char((n >> 16) & 0xff);
        if (pad < 2) {
            out += char((n >> 8) & 0xff);
        }
        if (pad < 1) {
            out += char(n & 0xff);
        }
    }
    return out;
}

std::string MinisignKey::id_hex() const {
    // minisign prints the id as a little-endian 64-bit number.
    std::array<uint8_t, 8> r{};
    for (size_t i = 0; i < 8; ++i) {
        r[i] = id[7 - i];
    }
    std::string s = hex(r.data(), r.size());
    for (char& c : s) {
        c = char(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

std::optional<MinisignKey> parse_minisign_key(const std::string& text, std::string* error) {
    std::string b64;
    for (const std::string& line : split_lines(text)) {
        if (line.empty() || line.compare(0, sizeof kUntrusted - 1, kUntrusted) == 0) {
            continue;
        }
        if (!b64.empty()) {
            *error = "more than one key line";
            return std::nullopt;
        }
        b64 = line;
    }
    auto raw = base64_decode(b64);
    if (!raw || raw->size() != 42) {
        *error = "not a minisign public key (expected base64 of 42 bytes)";
        return std::nullopt;
    }
    if ((*raw)[0] != 'E' || (*raw)[1] != 'd') {
        *error = "not an Ed25519 minisign public key";
        return std::nullopt;
    }
    MinisignKey k;
    std::copy(raw->begin() + 2, raw->begin() + 10, k.id.begin());
    std::copy(raw->begin() + 10, raw->end(), k.key.begin());
    return k;
}

std::optional<MinisignVerified> minisign_verify(const std::vector<MinisignKey>& keys, const std::string& message,
                                                const std::string& sig_text, std::string* error) {
    std::vector<std::string> lines = split_lines(sig_text);
    if (lines.size() != 4 || lines[0].compare(0, sizeof kUntrusted - 1, kUntrusted) != 0 ||
        lines[2].compare(0, sizeof kTrusted - 1, kTrusted) != 0) {
        *error = "malformed or truncated signature file (expected 4 lines: untrusted comment, signature, trusted comment, "
                 "global signature)";
        return std::nullopt;
    }
    auto sig = base64_decode(lines[1]);
    if (!sig || sig->size() != 74) {
        *error = "malformed or truncated signature line";
        return std::nullopt;
    }
    if ((*sig)[0] == 'E' && (*sig)[1] == 'd') {
        *error = "legacy (not pre-hashed) minisign signature refused; sign with minisign 0.10 or later";
        return std::nullopt;
    }
    if ((*sig)[0] != 'E' || (*sig)[1] != 'D') {
        *error = "unknown signature algorithm";
        return std::nullopt;
    }
    const MinisignKey* key = nullptr;
    for (const MinisignKey& k : keys) {
        if (std::memcmp(k.id.data(), sig->data() + 2, k.id.size()) == 0) {
            key = &k;
            break;
        }
    }
    if (key == nullptr) {
        MinisignKey unknown;
        std::copy(sig->begin() + 2, sig->begin() + 10, unknown.id.begin());
        *error = "signed with key " + unknown.id_hex() + ", which is not a trusted key";
        return std::nullopt;
    }
    auto hash = digest(EVP_blake2b512(), message);
    if (!hash) {
        *error = "BLAKE2b-512 is not available in this OpenSSL";
        return std::nullopt;
    }
    const auto* sig_bytes = reinterpret_cast<const uint8_t*>(sig->data() + 10);
    if (!ed25519_verify(key->key, sig_bytes, *hash)) {
        *error = "signature does not match the content (key " + key->id_hex() + ")";
        return std::nullopt;
    }
    std::string trusted = lines[2].substr(sizeof kTrusted - 1);
    auto global = base64_decode(lines[3]);
    if (!global || global->size() != 64) {
        *error = "malformed or truncated global signature line";
        return std::nullopt;
    }
    std::string signed_comment = sig->substr(10, 64) + trusted;
    if (!ed25519_verify(key->key, reinterpret_cast<const uint8_t*>(global->data()), signed_comment)) {
        *error = "the trusted comment does not match its signature (key " + key->id_hex() + ")";
        return std::nullopt;
    }
    return MinisignVerified{key->id_hex(), trusted};
}

std::string sha256_hex(const std::string& data) {
    auto d = digest(EVP_sha256(), data);
    if (!d) {
        return "";
    }
    return hex(reinterpret_cast<const uint8_t*>(d->data()), d->size());
}

}  // namespace ringfence::core
