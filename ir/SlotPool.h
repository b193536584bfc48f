// SlotPool: fixed-size storage for one kind of IR object, owned by a graph.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ONNXOPT_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define ONNXOPT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ONNXOPT_POISON(p, n) ((void)(p), (void)(n))
#define ONNXOPT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace onnxopt {

/// Hands out slots of one size from chunks, in allocation order; a released
/// slot is reused first. A graph keeps its nodes, values and uses in pools so
/// that objects created together (an importer creates them in program order)
/// sit together: walking the node list then streams through memory instead
/// of chasing pointers across a fragmented heap, which is what made passes
/// slower per node on large graphs. Memory goes back when the pool dies; the
/// objects in it must have been destroyed by then. Under AddressSanitizer a
/// released slot is poisoned until it is handed out again, so a use of a
/// destroyed node or value is still reported.
class SlotPool {
public:
  SlotPool(size_t slotSize, size_t slotAlign)
      : slotSize_(roundUp(std::max(slotSize, sizeof(FreeSlot)), slotAlign)) {
    assert(slotAlign <= alignof(std::max_align_t) &&
           "over-aligned IR objects are not supported");
  }
  SlotPool(const SlotPool &) = delete;
  SlotPool &operator=(const SlotPool &) = delete;

  /// Uninitialized storage for one object.
  void *allocate() {
    if (FreeSlot *s = free_) {
      ONNXOPT_UNPOISON(s, slotSize_);
      free_ = s->next;
      return s;
    }
    if (cursor_ == end_)
      grow();
    void *p = cursor_;
    cursor_ += slotSize_;
    return p;
  }

  /// Gives back a slot whose object has been destroyed.
  void release(void *p) {
    free_ = ::new (p) FreeSlot{free_};
    ONNXOPT_POISON(p, slotSize_);
  }

private:
  struct FreeSlot {
    FreeSlot *next;
  };
  static size_t roundUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

  void grow() {
    // Chunks double up to kMaxChunkSlots: small subgraphs stay small, large
    // graphs make few allocations.
    size_t slots = chunks_.empty()
                       ? kFirstChunkSlots
                       : std::min(nextChunkSlots_ * 2, kMaxChunkSlots);
    nextChunkSlots_ = slots;
    chunks_.emplace_back(new std::byte[slots * slotSize_]);
    cursor_ = chunks_.back().get();
    end_ = cursor_ + slots * slotSize_;
  }

  static constexpr size_t kFirstChunkSlots = 8;
  static constexpr size_t kMaxChunkSlots = 4096;
  size_t slotSize_;
  size_t nextChunkSlots_ = 0;
  std::vector<std::unique_ptr<std::byte[]>> chunks_;
  std::byte *cursor_ = nullptr, *end_ = nullptr;
  FreeSlot *free_ = nullptr;
};

} // namespace onnxopt
