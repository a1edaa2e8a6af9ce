// SPDX-License-Identifier: BSD-3-Clause
// minisign signatures, verified with OpenSSL's EVP alone (libsodium is not
// in RHEL's base). Only the pre-hashed variant that minisign 0.10+ makes by
// default ("ED": Ed25519 over BLAKE2b-512 of the file) is accepted; the
// legacy "Ed" variant (the whole file signed) is refused.
//
// Public key: an optional "untrusted comment:" line, then base64 of
//   "Ed" | key id (8 bytes) | Ed25519 public key (32 bytes).
// Signature (.minisig), four lines:
//   untrusted comment: ...
//   base64 of "ED" | key id (8) | signature (64) of BLAKE2b-512(file)
//   trusted comment: TEXT
//   base64 of the global signature (64) of signature (64 bytes) || TEXT
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringfence::core {

struct MinisignKey {
    std::array<uint8_t, 8> id{};
    std::array<uint8_t, 32> key{};
    std::string id_hex() const;  // as minisign prints it
};

// Parses a public key file's text or the bare base64 line.
std::optional<MinisignKey> parse_minisign_key(const std::string& text, std::string* error);

struct MinisignVerified {
    std::string key_id;           // hex, of the key that verified
    std::string trusted_comment;  // verified text
};

// Verifies `sig_text` (a .minisig) over `message` with one of `keys`.
// Returns nullopt and *error (one line: why) on any defect.
std::optional<MinisignVerified> minisign_verify(const std::vector<MinisignKey>& keys, const std::string& message,
                                                const std::string& sig_text, std::string* error);

// Lower-case hex SHA-256 of `data`; "" if OpenSSL fails.
std::string sha256_hex(const std::string& data);

// Strict base64 (RFC 4648, with padding, canonical: the bits left over by
// padding are zero); nullopt on anything else.
std::optional<std::string> base64_decode(const std::string& text);

}  // namespace ringfence::core
