// Tensor: a shared handle to an n-dimensional view (shape, strides, offset) of a storage buffer
// on one device. Copying a Tensor copies the handle; views share the storage.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/generator.h"
#include "nabla/shape.h"

namespace nabla {

namespace autograd {
struct Node;
}

// A block of device memory. Freed through its device's allocator when the last view goes.
// The largest block any allocator is asked for (4 EiB): far beyond every machine's memory, and
// far enough below 2^64 that no size computed from it wraps around.
inline constexpr std::size_t kMaxAllocationBytes = std::size_t{1} << 62;

struct Storage {
  void* data = nullptr;
  std::size_t nbytes = 0;
  Device device;

  Storage(std::size_t nbytes, Device device);  // allocates
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  std::vector<int64_t> strides;  // in elements
  DType dtype = DType::Float32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;  // null for leaves
};

struct TensorOptions {
  DType dtype = DType::Float32;
  Device device = Device::cpu();
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation ----
  static Tensor empty(const Shape& shape, TensorOptions options = {});
  static Tensor zeros(const Shape& shape, TensorOptions options = {});
  static Tensor ones(const Shape& shape, TensorOptions options = {});
  static Tensor full(const Shape& shape, double value, TensorOptions options = {});
  static Tensor arange(int64_t end, TensorOptions options = {});
  static Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
  // Uniform in [0, 1) and standard normal, drawn from `gen` (the default generator if null).
  static Tensor rand(const Shape& shape, Generator* gen = nullptr, TensorOptions options = {});
  static Tensor randn(const Shape& shape, Generator* gen = nullptr, TensorOptions options = {});
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape,
                            Device device = Device::cpu());
  // Braced lists are float: Tensor::from_vector({1, 2, 3}, {3}).
  static Tensor from_vector(std::initializer_list<float> values, const Shape& shape,
                            Device device = Device::cpu()) {
    return from_vector(std::vector<float>(values), shape, device);
  }
  static Tensor scalar(float value, Device device = Device::cpu());

  // ---- properties ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  int64_t dim() const { return shape().ndim(); }
  int64_t size(int64_t d) const { return shape()[d]; }
  int64_t numel() const { return shape().numel(); }
  const std::vector<int64_t>& strides() const { return checked().strides; }
  int64_t offset() const { return checked().offset; }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device; }
  bool is_contiguous() const;
  bool is_cpu() const { return device().is_cpu(); }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // Pointer to the first element (storage + offset). T must match the dtype.
  template <typename T>
  T* data() const {
    NABLA_CHECK(dtype() == dtype_of<T>(), "Tensor::data: tensor holds {}, asked for {}",
                dtype_name(dtype()), dtype_name(dtype_of<T>()));
    return static_cast<T*>(impl_->storage->data) + impl_->offset;
  }
  void* raw_data() const;

  // ---- conversion ----
  Tensor to(Device device) const;  // differentiable
  Tensor to(DType dtype) const;
  template <typename T>
  std::vector<T> to_vector() const;  // copies to the host
  template <typename T>
  T item() const;  // the single element of a one-element tensor

  // ---- autograd ----
  bool requires_grad() const { return checked().requires_grad; }
  // Marks a leaf as needing a gradient (as requires_grad_ in PyTorch).
  Tensor& requires_grad(bool on);
  Tensor grad() const;  // undefined until a backward pass reaches this leaf
  void set_grad(const Tensor& grad) const;
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return checked().grad_fn; }
  // Back-propagates from this tensor; `grad` may be omitted for a one-element tensor.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // same storage, cut from the graph

  // ---- views and shape ----
  Tensor reshape(const Shape& shape) const;  // a view when possible; one dim may be -1
  Tensor view(const Shape& shape) const;     // a view or an error
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a 2-D tensor
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // drops `dim`
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor expand(const Shape& shape) const;
  Tensor contiguous() const;
  Tensor clone() const;

  // ---- math (see nabla/ops.h for the free functions and their semantics) ----
  Tensor matmul(const Tensor& other) const;
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor pow(float exponent) const;
  Tensor clamp(float min, float max) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;
  Tensor sum() const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(int64_t dim, bool keepdim = false) const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;

  // ---- in place, outside autograd (for optimizers and initialisers) ----
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);  // src broadcast to this shape, any device
  Tensor& add_(const Tensor& other, float alpha = 1.0f);
  Tensor& mul_(float factor);

  std::string str() const;  // values and shape, as PyTorch prints them

 private:
  const TensorImpl& checked() const {
    NABLA_CHECK(impl_ != nullptr, "operation on an undefined Tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace nabla
