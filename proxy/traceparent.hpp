#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the trace id of a
// `traceparent` header, for the access log. The header itself is forwarded untouched.

#include <string_view>

namespace ignite::proxy {

// The 32 lowercase hex digits of the trace id, or empty if `value` is not a valid
// traceparent: "00-<trace-id>-<parent-id>-<flags>", neither id all zeros, version not
// "ff"; a later version may append fields after a '-'.
std::string_view trace_id_of(std::string_view value) noexcept;

}  // namespace ignite::proxy
