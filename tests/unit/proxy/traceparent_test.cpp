// W3C traceparent: only a well-formed header yields a trace id for the log.
#include <gtest/gtest.h>

#include "proxy/traceparent.hpp"

namespace ignite::proxy {
namespace {

TEST(traceparent, a_valid_header_gives_its_trace_id) {
  EXPECT_EQ(trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "4bf92f3577b34da6a3ce929d0e0e4736");
  // A later version may append fields.
  EXPECT_EQ(trace_id_of("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(traceparent, anything_else_gives_nothing) {
  for (const char* bad : {"", "garbage",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",            // no flags
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",         // uppercase
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",         // zero trace id
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",         // zero parent id
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // forbidden version
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",       // version 00 has no more
                          "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",        // more without '-'
                          "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // separator
                          "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",         // not hex
                          "00-\"},\"x\":1,\"a\":{\"-00f067aa0ba902b7-01000000000000000"}) {  // JSON injection
    EXPECT_EQ(trace_id_of(bad), "") << bad;
  }
}

}  // namespace
}  // namespace ignite::proxy
