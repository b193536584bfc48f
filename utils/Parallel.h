// Splitting a loop over the machine's cores.
#pragma once

#include <cstdint>
#include <functional>
#include <thread>

namespace onnxopt {

/// The cores this process may run on (its CPU affinity mask, so a container's
/// or taskset's limit counts), at least 1.
int availableCores();

/// Runs fn(begin, end) over [0, n) split into at most availableCores() ranges
/// of at least `grain` items each, on that many threads (the caller's one of
/// them), and returns when all are done. Small loops run inline, and so do
/// loops on a worker thread (startWorker): its core is spoken for already.
/// fn must not depend on which range runs first: the ranges run concurrently.
void parallelFor(int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)> &fn);

/// Starts fn on a new thread that takes one core: a parallelFor inside it
/// runs inline. The caller joins it.
std::thread startWorker(std::function<void()> fn);

} // namespace onnxopt
