// Server-side TLS settings (PROTOCOL.md §1): TLS 1.2 minimum, 1.3 preferred,
// ECDHE with AEAD ciphers only, no renegotiation, no compression, ALPN
// `parley/1` (a client offering ALPN without it is refused; no ALPN is
// accepted), session tickets, SSL_MODE_RELEASE_BUFFERS so idle connections
// stay small. Also the development certificate.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "config.h"

namespace parley::kernel {

inline constexpr char kAlpnId[] = "parley/1";

// Creates the SSL_CTX for one listener, loading tls.cert / tls.key. When
// tls.dev is set and either file is missing, first generates a self-signed
// EC P-256 pair into those paths (logged). nullptr with *error on failure.
SSL_CTX* make_server_tls_context(const TlsConfig& tls, std::string* error);

// Writes a self-signed EC P-256 certificate (CN=localhost, SAN localhost,
// 127.0.0.1, ::1; valid one year) and its key (mode 0600) as PEM.
bool generate_dev_certificate(const std::string& cert_path,
                              const std::string& key_path, std::string* error);

// The OpenSSL error queue as one line (and clears it).
std::string openssl_error_string();

}  // namespace parley::kernel
