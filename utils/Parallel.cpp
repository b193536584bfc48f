// Splitting a loop over the machine's cores.
#include "utils/Parallel.h"

#include <algorithm>
#include <sched.h>
#include <thread>
#include <vector>

namespace onnxopt {

int availableCores() {
  static const int cores = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
      return CPU_COUNT(&set);
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }();
  return cores;
}

namespace {
thread_local bool onWorker = false;
} // namespace

std::thread startWorker(std::function<void()> fn) {
  return std::thread([fn = std::move(fn)] {
    onWorker = true;
    fn();
  });
}

void parallelFor(int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  int64_t parts =
      std::min<int64_t>(availableCores(), n / std::max<int64_t>(grain, 1));
  if (parts <= 1 || onWorker) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> helpers;
  helpers.reserve(static_cast<size_t>(parts - 1));
  auto bound = [&](int64_t k) { return n * k / parts; };
  for (int64_t k = 1; k < parts; ++k)
    helpers.push_back(
        startWorker([&fn, b = bound(k), e = bound(k + 1)] { fn(b, e); }));
  // The caller's range too: every core is taken while the loop runs.
  bool was = onWorker;
  onWorker = true;
  fn(0, bound(1));
  onWorker = was;
  for (auto &t : helpers)
    t.join();
}

} // namespace onnxopt
