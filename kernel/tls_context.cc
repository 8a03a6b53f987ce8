#include "tls_context.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "log.h"

namespace parley::kernel {
namespace {

// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only. TLS 1.3 suites are
// all AEAD; OpenSSL's defaults are kept.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char kAlpnWire[] = {8, 'p', 'a', 'r', 'l', 'e', 'y', '/', '1'};

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen,
                const unsigned char* in, unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnWire, sizeof kAlpnWire, in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    // The client offered ALPN, but not parley/1: refuse the handshake.
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(FILE* f) const { std::fclose(f); }
};
template <class T>
using Owned = std::unique_ptr<T, Deleter>;

bool add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1;
}

}  // namespace

std::string openssl_error_string() {
  std::string out;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("unknown TLS error") : out;
}

bool generate_dev_certificate(const std::string& cert_path,
                              const std::string& key_path, std::string* error) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  Owned<X509> cert(X509_new());
  if (!key || !cert) {
    *error = "generating the development key: " + openssl_error_string();
    return false;
  }
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  FILE* urandom = std::fopen("/dev/urandom", "rb");
  if (!urandom || std::fread(serial, 1, sizeof serial, urandom) != sizeof serial) {
    if (urandom) std::fclose(urandom);
    *error = "reading /dev/urandom for the certificate serial";
    return false;
  }
  std::fclose(urandom);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Parley development"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!add_ext(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
      !add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(cert.get(), NID_ext_key_usage, "serverAuth") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    *error = "signing the development certificate: " + openssl_error_string();
    return false;
  }

  std::error_code ec;
  for (const std::string& p : {cert_path, key_path}) {
    std::filesystem::path parent = std::filesystem::path(p).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  // The key is created 0600 from the start, never world-readable.
  int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  Owned<FILE> key_file(fd >= 0 ? fdopen(fd, "wb") : nullptr);
  if (!key_file) {
    if (fd >= 0) ::close(fd);
    *error = "cannot write " + key_path;
    return false;
  }
  if (!PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
    *error = "writing " + key_path + ": " + openssl_error_string();
    return false;
  }
  Owned<FILE> cert_file(std::fopen(cert_path.c_str(), "wb"));
  if (!cert_file || !PEM_write_X509(cert_file.get(), cert.get())) {
    *error = "cannot write " + cert_path;
    return false;
  }
  return true;
}

SSL_CTX* make_server_tls_context(const TlsConfig& tls, std::string* error) {
  namespace fs = std::filesystem;
  if (tls.dev && (!fs::exists(tls.cert) || !fs::exists(tls.key))) {
    if (!generate_dev_certificate(tls.cert, tls.key, error)) return nullptr;
    log::logf(log::Level::Warn, "tls", 0,
              "generated a self-signed development certificate cert=%s key=%s",
              tls.cert.c_str(), tls.key.c_str());
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    *error = openssl_error_string();
    return nullptr;
  }
  auto fail = [&](const std::string& what) {
    *error = what + ": " + openssl_error_string();
    SSL_CTX_free(ctx);
    return nullptr;
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return fail("cipher list");
  // Elliptic-curve key exchange only: OpenSSL 3 otherwise also offers the
  // finite-field groups (ffdhe2048...) in TLS 1.3, which are slower and which
  // TLS scanners flag.
  if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) return fail("groups");
  // Session resumption: stateless tickets (the default, kept on) plus a
  // context id so a resumed session stays on this server's settings.
  static const unsigned char kSidCtx[] = "parleyd";
  SSL_CTX_set_session_id_context(ctx, kSidCtx, sizeof kSidCtx - 1);
  // One TLS 1.3 ticket per handshake instead of OpenSSL's two: each costs
  // an encryption and a record (~15 us of the ~225 us a full handshake
  // takes here); a client that resumes gets a fresh one each time.
  SSL_CTX_set_num_tickets(ctx, 1);
  // No server-side session cache: tickets already resume TLS 1.2 and 1.3
  // statelessly, and the cache would keep up to 20k sessions (~1 KiB each)
  // for TLS 1.2 clients and take a lock per handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert.c_str()) != 1)
    return fail("loading certificate " + tls.cert);
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail("loading key " + tls.key);
  if (SSL_CTX_check_private_key(ctx) != 1)
    return fail("certificate and key do not match");
  return ctx;
}

}  // namespace parley::kernel
