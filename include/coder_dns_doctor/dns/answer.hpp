// Turning what c-ares hands back for one query (a status and the reply bytes) into an Answer.
// Pure: no channel, no sockets, so tests and the fuzzer can feed it packets directly.
#pragma once

#include <coder_dns_doctor/dns/channel.hpp>
#include <coder_dns_doctor/dns/lookup.hpp>

namespace coder_dns_doctor::dns {

// Return the Answer for a query of `family` that c-ares finished with `status` (an ARES_* code)
// and, when `status` is ARES_SUCCESS, the raw reply `reply` of `length` bytes. Never throws on a
// malformed reply: it becomes LookupStatus::error with the reason in `detail`. A CNAME chain that
// returns to one of its own names is an error, not an answer. `duration_ms` is left at 0.
[[nodiscard]] Answer decode_answer(int status, const unsigned char* reply, int length, Family family);

} // namespace coder_dns_doctor::dns
