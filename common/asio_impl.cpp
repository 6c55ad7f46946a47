// The one translation unit that compiles Asio and Asio's SSL support; every other file
// sees only their declarations (BOOST_ASIO_SEPARATE_COMPILATION). Beast is compiled
// apart, in beast_impl.cpp, so that libraries which must not speak HTTP (routing,
// coldstart) can use Asio without Beast.
#include <boost/asio/version.hpp>

#if defined(BOOST_ASIO_HAS_IO_URING)
#include <liburing.h>

#if BOOST_ASIO_VERSION < 102700
// Asio before 1.27 (Boost 1.81) prepares its cancel and timeout-remove submissions
// without setting their user data, and liburing since 2.2 no longer clears it when it
// hands out a submission slot: once the ring has wrapped, such a submission carries
// whatever operation last used its slot, and its completion is taken for that
// operation's. An I/O queue then completes twice, is pushed twice onto an intrusive
// operation list, and the operations behind it are lost: their sockets stop being
// served while the kernel holds nothing for them. Asio 1.27 clears the user data in
// io_uring_service::get_sqe; this does the same for the one caller, the io_uring
// service compiled below (only this file compiles Asio's implementation).

static inline ::io_uring_sqe* ignite_io_uring_get_cleared_sqe(::io_uring* ring) {
  ::io_uring_sqe* sqe = ::io_uring_get_sqe(ring);
  if (sqe) ::io_uring_sqe_set_data(sqe, nullptr);
  return sqe;
}
#define io_uring_get_sqe ignite_io_uring_get_cleared_sqe
#endif

// Asio sets its ring up with no flags, so the kernel runs each completion's task
// work (the retry of a read armed on a socket) by interrupting the thread at its next
// return to user space: on the way back from write_now's own sendmsg, where it spins
// for the socket lock against the loopback delivery still running on the other core
// (18.6% of the worker's cycles under h2load, perf). COOP_TASKRUN leaves that work for
// the thread's next io_uring_enter, with the others; TASKRUN_FLAG tells liburing there
// is some, so a peek for completions enters the kernel for it. Kernels before 5.19 lack
// both: the ring is then set up as Asio would.
static inline int ignite_io_uring_queue_init(unsigned entries, ::io_uring* ring, unsigned flags) {
  int r = ::io_uring_queue_init(entries, ring, flags | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
  if (r == -EINVAL) r = ::io_uring_queue_init(entries, ring, flags);
  return r;
}
#define io_uring_queue_init ignite_io_uring_queue_init
#endif

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>

#if defined(BOOST_ASIO_HAS_IO_URING)
#undef io_uring_get_sqe
#undef io_uring_queue_init
#endif
