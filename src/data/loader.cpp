// DataLoader: epoch orders, the saveable position, reusable (optionally pinned) batch buffers,
// the optional prefetch thread, and the device-resident copy of the data.
#include "nabla/data/loader.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>

#include "backend/indexing.h"
#include "backend/memory.h"
#include "nabla/error.h"

namespace nabla::data {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The generator key of an epoch: a hash of (seed, epoch), so epochs draw unrelated streams.
uint64_t epoch_key(uint64_t seed, int64_t epoch) {
  return splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(epoch));
}

Shape with_batch(int64_t batch, const Shape& sample) {
  std::vector<int64_t> dims{batch};
  dims.insert(dims.end(), sample.begin(), sample.end());
  return Shape(std::move(dims));
}

// A contiguous tensor of `shape` over `storage` from element `offset`: a new handle, so the
// storage's use count tells how many handles are alive.
Tensor view_of(const std::shared_ptr<Storage>& storage, int64_t offset, const Shape& shape,
               DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage;
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

// A few batch buffers of full batch size, handed out again once no tensor views them. Only one
// thread at a time calls acquire() (the prefetch thread, or the consumer without prefetch).
class BufferPool {
 public:
  BufferPool(const SampleLayout& layout, int64_t batch_size, bool pin)
      : layout_(layout), batch_size_(batch_size), pin_(pin && cuda::is_available()) {}
  ~BufferPool() {
    for (void* p : pinned_) backend::host_unregister_stub(Device::cuda())(p);
  }
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // Tensors of `rows` samples (rows <= batch_size) to gather into.
  Batch acquire(int64_t rows) {
    for (const Batch& buffer : buffers_)
      if (is_free(buffer)) return first_rows(buffer, rows);
    if (buffers_.size() < kMaxBuffers) {
      buffers_.push_back({allocate(layout_.input_shape, layout_.input_dtype),
                          allocate(layout_.target_shape, layout_.target_dtype)});
      return first_rows(buffers_.back(), rows);
    }
    // Every buffer is still held by the caller: fall back to fresh memory.
    return {Tensor::empty(with_batch(rows, layout_.input_shape), {.dtype = layout_.input_dtype}),
            Tensor::empty(with_batch(rows, layout_.target_shape), {.dtype = layout_.target_dtype})};
  }

 private:
  // Two queued batches, one being gathered, one held by the consumer.
  static constexpr std::size_t kMaxBuffers = 4;

  static bool is_free(const Batch& buffer) {
    if (buffer.inputs.impl()->storage.use_count() != 1 ||
        buffer.targets.impl()->storage.use_count() != 1)
      return false;
    // Pairs with the release in the last holder's reference drop, so its reads of the buffer
    // happen before our writes.
    std::atomic_thread_fence(std::memory_order_acquire);
    return true;
  }

  static Batch first_rows(const Batch& buffer, int64_t rows) {
    auto rows_of = [rows](const Tensor& t) {
      std::vector<int64_t> dims = t.shape().dims;
      dims[0] = rows;
      return view_of(t.impl()->storage, t.offset(), Shape(std::move(dims)), t.dtype());
    };
    return {rows_of(buffer.inputs), rows_of(buffer.targets)};
  }

  Tensor allocate(const Shape& sample, DType dtype) {
    const Shape shape = with_batch(batch_size_, sample);
    if (!pin_) return Tensor::empty(shape, {.dtype = dtype});
    // Pinning locks whole pages, so the buffer gets pages of its own: one page of slack, and
    // the data starts at a page boundary.
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t element = dtype_size(dtype);
    const std::size_t bytes =
        (static_cast<std::size_t>(shape.numel()) * element + page - 1) / page * page;
    const Tensor raw =
        Tensor::empty({static_cast<int64_t>((bytes + page) / element)}, {.dtype = dtype});
    const auto base = reinterpret_cast<uintptr_t>(raw.raw_data());
    const uintptr_t aligned = (base + page - 1) / page * page;
    const Tensor t =
        view_of(raw.impl()->storage,
                raw.offset() + static_cast<int64_t>((aligned - base) / element), shape, dtype);
    if (backend::host_register_stub(Device::cuda())(reinterpret_cast<void*>(aligned), bytes))
      pinned_.push_back(reinterpret_cast<void*>(aligned));
    return t;
  }

  SampleLayout layout_;
  int64_t batch_size_;
  bool pin_;
  std::vector<Batch> buffers_;
  std::vector<void*> pinned_;
};

}  // namespace

struct DataLoader::Impl {
  std::shared_ptr<const Dataset> dataset;
  DataLoaderConfig config;
  int64_t size = 0;
  // The consumer's position: the next batch next() hands out.
  int64_t epoch = 0, batch = 0;
  // The order of `order_epoch` (computed when first needed).
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  BufferPool pool;
  // resident_on: the whole dataset there, and the current order there.
  Batch resident;
  Tensor resident_order;

  // ---- prefetch: one producer thread for the rest of the current epoch ----
  struct Item {
    Batch batch;
    std::exception_ptr error;
  };
  static constexpr std::size_t kQueueCapacity = 2;
  std::thread worker;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Item> queue;
  bool stop = false;

  Impl(std::shared_ptr<const Dataset> ds, DataLoaderConfig cfg)
      : dataset(std::move(ds)),
        config(cfg),
        size(dataset->size()),
        pool(dataset->layout(), cfg.batch_size, cfg.pin_memory) {
    if (!config.resident_on) return;
    std::vector<int64_t> all(static_cast<std::size_t>(size));
    std::iota(all.begin(), all.end(), int64_t{0});
    const Batch host = dataset->get_batch(all);
    resident = {host.inputs.to(*config.resident_on), host.targets.to(*config.resident_on)};
  }
  ~Impl() { stop_worker(); }

  int64_t num_batches() const {
    const int64_t b = config.batch_size;
    return config.drop_last ? size / b : (size + b - 1) / b;
  }

  std::vector<int64_t> order_of(int64_t e) const {
    if (config.shuffle) {
      Generator gen(epoch_key(config.seed, e));
      return random_permutation(size, gen);
    }
    std::vector<int64_t> identity(size);
    std::iota(identity.begin(), identity.end(), int64_t{0});
    return identity;
  }

  // Batch k of the current order (any thread; reads only state fixed while the worker runs).
  Batch gather_batch(int64_t k) {
    const int64_t begin = k * config.batch_size;
    const int64_t rows = std::min(config.batch_size, size - begin);
    if (config.resident_on) return gather_resident(begin, rows);
    Batch out = pool.acquire(rows);
    dataset->gather(std::span<const int64_t>(order.data() + begin, rows), out.inputs, out.targets);
    return out;
  }

  Batch gather_resident(int64_t begin, int64_t rows) const {
    const Device device = *config.resident_on;
    const SampleLayout layout = dataset->layout();
    const Tensor index = resident_order.narrow(0, begin, rows);
    Batch out{Tensor::empty(with_batch(rows, layout.input_shape), {layout.input_dtype, device}),
              Tensor::empty(with_batch(rows, layout.target_shape), {layout.target_dtype, device})};
    backend::gather_rows_stub(device)(resident.inputs, index, out.inputs);
    backend::gather_rows_stub(device)(resident.targets, index, out.targets);
    return out;
  }

  void run_worker(int64_t first) {
    const int64_t end = num_batches();
    for (int64_t k = first; k < end; ++k) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return stop || queue.size() < kQueueCapacity; });
        if (stop) return;
      }
      Item item;
      try {
        item.batch = gather_batch(k);
      } catch (...) {
        item.error = std::current_exception();
      }
      const bool failed = item.error != nullptr;
      {
        std::lock_guard<std::mutex> lock(mutex);
        queue.push_back(std::move(item));
      }
      changed.notify_all();
      if (failed) return;
    }
  }

  void stop_worker() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    changed.notify_all();
    if (worker.joinable()) worker.join();
    queue.clear();
    stop = false;
  }

  std::optional<Batch> next() {
    if (batch >= num_batches()) {
      stop_worker();
      ++epoch, batch = 0;
      return std::nullopt;
    }
    if (order_epoch != epoch) {
      order = order_of(epoch), order_epoch = epoch;
      if (config.resident_on)
        resident_order = Tensor::from_vector(order, {size}).to(*config.resident_on);
    }
    if (!config.prefetch || config.resident_on) return gather_batch(batch++);

    if (!worker.joinable()) worker = std::thread([this, first = batch] { run_worker(first); });
    Item item;
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return !queue.empty(); });
      item = std::move(queue.front());
      queue.pop_front();
    }
    changed.notify_all();
    if (item.error) {
      stop_worker();  // the position stays, so calling next() again retries this batch
      std::rethrow_exception(item.error);
    }
    ++batch;
    return std::move(item.batch);
  }

  void seek(int64_t e, int64_t k) {
    stop_worker();
    epoch = e, batch = k;
  }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderConfig config) {
  NABLA_CHECK(dataset != nullptr, "DataLoader: null dataset");
  NABLA_CHECK(config.batch_size > 0, "DataLoader: batch_size must be positive, got {}",
              config.batch_size);
  impl_ = std::make_unique<Impl>(std::move(dataset), config);
}

DataLoader::DataLoader(const Dataset& dataset, DataLoaderConfig config)
    : DataLoader(std::shared_ptr<const Dataset>(&dataset, [](const Dataset*) {}), config) {}

DataLoader::~DataLoader() = default;

int64_t DataLoader::num_batches() const {
  return impl_->num_batches();
}
int64_t DataLoader::epoch() const {
  return impl_->epoch;
}
int64_t DataLoader::batch_index() const {
  return impl_->batch;
}
const DataLoaderConfig& DataLoader::config() const {
  return impl_->config;
}
const Dataset& DataLoader::dataset() const {
  return *impl_->dataset;
}

void DataLoader::set_epoch(int64_t epoch) {
  NABLA_CHECK(epoch >= 0, "DataLoader::set_epoch: epoch must be >= 0, got {}", epoch);
  impl_->seek(epoch, 0);
}

std::optional<Batch> DataLoader::next() {
  return impl_->next();
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  NABLA_CHECK(epoch >= 0, "DataLoader::epoch_order: epoch must be >= 0, got {}", epoch);
  return impl_->order_of(epoch);
}

State DataLoader::state_dict() const {
  State s;
  s.scalars["epoch"] = static_cast<double>(impl_->epoch);
  s.scalars["batch_index"] = static_cast<double>(impl_->batch);
  s.scalars["dataset_size"] = static_cast<double>(impl_->size);
  s.scalars["batch_size"] = static_cast<double>(impl_->config.batch_size);
  s.scalars["shuffle"] = impl_->config.shuffle ? 1.0 : 0.0;
  s.scalars["drop_last"] = impl_->config.drop_last ? 1.0 : 0.0;
  s.strings["seed"] = std::to_string(impl_->config.seed);  // 64 bits do not fit a double
  return s;
}

void DataLoader::load_state_dict(const State& state) {
  constexpr const char* what = "DataLoader::load_state_dict";
  const DataLoaderConfig& c = impl_->config;
  auto expect = [&](const char* key, double current) {
    const double saved = state.scalar(key, what);
    NABLA_CHECK(saved == current,
                "{}: the saved loader had {} = {}, this one has {}; a resumed run must use the "
                "same data and loader settings",
                what, key, saved, current);
  };
  expect("dataset_size", static_cast<double>(impl_->size));
  expect("batch_size", static_cast<double>(c.batch_size));
  expect("shuffle", c.shuffle ? 1.0 : 0.0);
  expect("drop_last", c.drop_last ? 1.0 : 0.0);
  const std::string& seed = state.string("seed", what);
  NABLA_CHECK(seed == std::to_string(c.seed),
              "{}: the saved loader had seed {}, this one has {}; a resumed run must use the "
              "same seed",
              what, seed, c.seed);
  const int64_t epoch = state.count("epoch", what), batch = state.count("batch_index", what);
  NABLA_CHECK(batch <= num_batches(), "{}: invalid batch_index {} (an epoch has {} batches)", what,
              batch, num_batches());
  impl_->seek(epoch, batch);
}

}  // namespace nabla::data
