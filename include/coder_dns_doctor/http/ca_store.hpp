// Trust anchors parsed once per process, shared by every TLS connection.
#pragma once

#include <coder_dns_doctor/util/bounded_read.hpp>

#include <expected>
#include <string>

namespace coder_dns_doctor::http {

// Return the certificate store for `ca_file` (the system's default paths when empty), built on
// first use and rebuilt when the file's size or modification time changes. The store is an
// OpenSSL X509_STORE*, typed void* so callers need no OpenSSL headers. Never null: a file that
// cannot be read (util::read_bounded: not a regular file, larger than util::k_config_file_limit)
// yields an empty store, so verification fails as it should; OpenSSL never opens the file itself.
//
// Why: libcurl otherwise re-reads and re-parses the CA bundle for every connection, which with
// OpenSSL 3 costs more CPU than the TLS handshake itself (measured with callgrind, bench/).
[[nodiscard]] void* shared_ca_store(const std::string& ca_file);

// Succeed when the store for `ca_file` was built from a file that could be read (or from the
// system's paths); else the read_bounded error. The same cache as shared_ca_store: no extra read.
[[nodiscard]] std::expected<void, util::FileError> ca_file_readable(const std::string& ca_file);

} // namespace coder_dns_doctor::http
