// Tensor storage, creation, conversion, in-place updates and printing.
#include "nabla/tensor.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "backend/dispatch.h"
#include "backend/elementwise.h"
#include "backend/layout.h"
#include "backend/memory.h"
#include "backend/random.h"
#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "ops/helpers.h"

namespace nabla {

Storage::Storage(std::size_t n, Device d) : nbytes(n), device(d) {
  NABLA_CHECK(nbytes <= kMaxAllocationBytes,
              "cannot allocate {} bytes on {}: more than any machine's memory", nbytes,
              device.str());
  data = backend::allocate_stub(device)(nbytes, device.index);
}

Storage::~Storage() {
  if (data != nullptr) backend::deallocate_stub(device)(data, nbytes, device.index);
}

// ---------------------------------------------------------------- creation

Tensor Tensor::empty(const Shape& shape, TensorOptions options) {
  for (int64_t d : shape.dims)
    NABLA_CHECK(d >= 0, "Tensor::empty: negative dimension in shape {}", shape.str());
  const int64_t numel = shape.numel();
  std::size_t nbytes = 0;
  NABLA_CHECK(!__builtin_mul_overflow(static_cast<std::size_t>(numel), dtype_size(options.dtype),
                                      &nbytes) &&
                  nbytes <= kMaxAllocationBytes,
              "Tensor::empty: shape {} of {} needs {:.4g} bytes ({} elements of {} bytes), more "
              "than any machine's memory",
              shape.str(), dtype_name(options.dtype),
              static_cast<double>(numel) * static_cast<double>(dtype_size(options.dtype)), numel,
              dtype_size(options.dtype));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(nbytes, options.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, double value, TensorOptions options) {
  Tensor t = empty(shape, options);
  backend::fill_stub(options.device)(t, value);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, TensorOptions options) {
  return full(shape, 0.0, options);
}
Tensor Tensor::ones(const Shape& shape, TensorOptions options) {
  return full(shape, 1.0, options);
}

Tensor Tensor::arange(int64_t end, TensorOptions options) {
  return arange(0.0, static_cast<double>(end), 1.0, options);
}

Tensor Tensor::arange(double start, double end, double step, TensorOptions options) {
  NABLA_CHECK(step != 0.0, "arange: step must be nonzero");
  const double span = (end - start) / step;
  const int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span)) : 0;
  if (options.dtype == DType::Int64) {
    std::vector<int64_t> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>(start + i * step);
    return from_vector(v, {n}, options.device);
  }
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(start + i * step);
  return from_vector(v, {n}, options.device);
}

namespace {
Tensor random_tensor(const Shape& shape, Generator* gen, TensorOptions options, bool normal) {
  NABLA_CHECK(options.dtype == DType::Float32, "rand/randn: only float32 is supported, got {}",
              dtype_name(options.dtype));
  Generator& g = gen ? *gen : default_generator();
  Tensor t = Tensor::empty(shape, options);
  const uint64_t offset = g.reserve(static_cast<uint64_t>(t.numel()));
  auto& stub = normal ? backend::rand_normal_stub : backend::rand_uniform_stub;
  stub(options.device)(t, g.seed(), offset);
  return t;
}

template <typename T>
Tensor tensor_from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  NABLA_CHECK(static_cast<int64_t>(values.size()) == shape.numel(),
              "from_vector: {} values do not fill shape {} ({} elements)", values.size(),
              shape.str(), shape.numel());
  Tensor t = Tensor::empty(shape, {dtype_of<T>(), device});
  backend::copy_from_host_stub(device)(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}
}  // namespace

Tensor Tensor::rand(const Shape& shape, Generator* gen, TensorOptions options) {
  return random_tensor(shape, gen, options, false);
}
Tensor Tensor::randn(const Shape& shape, Generator* gen, TensorOptions options) {
  return random_tensor(shape, gen, options, true);
}
Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& shape, Device device) {
  return tensor_from_vector(v, shape, device);
}
Tensor Tensor::from_vector(const std::vector<int64_t>& v, const Shape& shape, Device device) {
  return tensor_from_vector(v, shape, device);
}
Tensor Tensor::scalar(float value, Device device) {
  return from_vector({value}, Shape{}, device);
}

// ---------------------------------------------------------------- properties

bool Tensor::is_contiguous() const {
  const auto& s = checked();
  int64_t expected = 1;
  for (size_t i = s.shape.dims.size(); i-- > 0;) {
    if (s.shape.dims[i] == 1) continue;
    if (s.strides[i] != expected) return false;
    expected *= s.shape.dims[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  const auto& s = checked();
  return static_cast<char*>(s.storage->data) + s.offset * dtype_size(s.dtype);
}

// ---------------------------------------------------------------- conversion

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  Tensor out = empty(shape(), {dtype, device()});
  backend::copy_strided_stub(device())(*this, out);
  return out;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  NABLA_CHECK(dtype() == dtype_of<T>(), "to_vector: tensor holds {}, asked for {}",
              dtype_name(dtype()), dtype_name(dtype_of<T>()));
  const Tensor c = contiguous();
  std::vector<T> out(static_cast<size_t>(numel()));
  backend::copy_to_host_stub(device())(out.data(), c.raw_data(), out.size() * sizeof(T));
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

template <typename T>
T Tensor::item() const {
  NABLA_CHECK(numel() == 1, "item: tensor of shape {} has {} elements, expected exactly one",
              shape().str(), numel());
  return to_vector<T>()[0];
}
template float Tensor::item<float>() const;
template int64_t Tensor::item<int64_t>() const;

// ---------------------------------------------------------------- autograd accessors

Tensor& Tensor::requires_grad(bool on) {
  NABLA_CHECK(!on || dtype() == DType::Float32, "requires_grad: only float32 tensors can, got {}",
              dtype_name(dtype()));
  NABLA_CHECK(is_leaf(), "requires_grad: only leaf tensors can be changed; use detach() first");
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  const auto& g = checked().grad;
  return g ? Tensor(g) : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  if (grad.defined())
    NABLA_CHECK(grad.shape() == shape(), "set_grad: gradient of shape {} for a tensor of shape {}",
                grad.shape().str(), shape().str());
  impl_->grad = grad.impl_ptr();
}

Tensor Tensor::detach() const {
  return ops::make_view(*this, shape(), strides(), offset());
}

// ---------------------------------------------------------------- in place

Tensor& Tensor::zero_() {
  return fill_(0.0);
}

Tensor& Tensor::fill_(double value) {
  if (is_contiguous()) {
    backend::fill_stub(device())(*this, value);
  } else {
    copy_(full({}, value, {dtype(), device()}));
  }
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  Tensor s = src.device() == device() ? src : src.to(device());
  backend::copy_strided_stub(device())(ops::broadcast_view(s, shape()), *this);
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, float alpha) {
  NoGradGuard no_grad;
  ops::check_float(*this, "add_");
  const Tensor o = alpha == 1.0f ? other : nabla::mul(other, alpha);
  ops::check_same_device(*this, o, "add_");
  const Tensor ob = ops::broadcast_view(o, shape());
  // The binary kernels write a contiguous output; any other layout goes through a temporary.
  if (!is_contiguous()) return copy_(nabla::add(*this, ob));
  backend::binary_stub(device())(kernels::BinaryOp::Add, *this, ob, *this, 0.0f, 0.0f);
  return *this;
}

Tensor& Tensor::mul_(float factor) {
  ops::check_float(*this, "mul_");
  NABLA_CHECK(is_contiguous(), "mul_: needs a contiguous tensor");
  backend::unary_stub(device())(kernels::UnaryOp::MulScalar, *this, *this, factor, 0.0f);
  return *this;
}

// ---------------------------------------------------------------- printing

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  const Tensor c = to(Device::cpu()).contiguous();
  std::ostringstream os;
  const auto& dims = c.shape().dims;
  const int64_t n = c.numel();
  const bool is_float = c.dtype() == DType::Float32;
  const std::vector<float> fv = is_float ? c.to_vector<float>() : std::vector<float>{};
  const std::vector<int64_t> iv = is_float ? std::vector<int64_t>{} : c.to_vector<int64_t>();
  constexpr int64_t kShown = 6;  // per dimension, at each end
  // Prints the block starting at `base` for dimension d.
  auto print = [&](auto&& self, size_t d, int64_t base) -> void {
    if (d == dims.size()) {
      if (is_float)
        os << fmt::format("{:.4f}", fv[base]);
      else
        os << iv[base];
      return;
    }
    const int64_t stride = c.strides()[d];
    os << '[';
    for (int64_t i = 0; i < dims[d]; ++i) {
      if (dims[d] > 2 * kShown && i == kShown) {
        os << "..., ";
        i = dims[d] - kShown;
      }
      if (i > 0 && !(dims[d] > 2 * kShown && i == dims[d] - kShown)) {
        os << (d + 1 == dims.size() ? ", " : ",\n ");
      }
      self(self, d + 1, base + i * stride);
    }
    os << ']';
  };
  os << "tensor(";
  if (n == 0)
    os << "[]";
  else
    print(print, 0, 0);
  os << ", shape=" << c.shape().str() << ", dtype=" << dtype_name(c.dtype());
  if (!device().is_cpu()) os << ", device=" << device().str();
  if (requires_grad()) os << ", requires_grad=true";
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  return os << t.str();
}

// ---------------------------------------------------------------- method forms of the ops

Tensor Tensor::matmul(const Tensor& o) const {
  return nabla::matmul(*this, o);
}
Tensor Tensor::neg() const {
  return nabla::neg(*this);
}
Tensor Tensor::exp() const {
  return nabla::exp(*this);
}
Tensor Tensor::log() const {
  return nabla::log(*this);
}
Tensor Tensor::sqrt() const {
  return nabla::sqrt(*this);
}
Tensor Tensor::abs() const {
  return nabla::abs(*this);
}
Tensor Tensor::pow(float e) const {
  return nabla::pow(*this, e);
}
Tensor Tensor::clamp(float lo, float hi) const {
  return nabla::clamp(*this, lo, hi);
}
Tensor Tensor::relu() const {
  return nabla::relu(*this);
}
Tensor Tensor::sigmoid() const {
  return nabla::sigmoid(*this);
}
Tensor Tensor::tanh() const {
  return nabla::tanh(*this);
}
Tensor Tensor::softmax(int64_t dim) const {
  return nabla::softmax(*this, dim);
}
Tensor Tensor::log_softmax(int64_t dim) const {
  return nabla::log_softmax(*this, dim);
}
Tensor Tensor::sum() const {
  return nabla::sum(*this);
}
Tensor Tensor::sum(const std::vector<int64_t>& d, bool k) const {
  return nabla::sum(*this, d, k);
}
Tensor Tensor::mean() const {
  return nabla::mean(*this);
}
Tensor Tensor::mean(const std::vector<int64_t>& d, bool k) const {
  return nabla::mean(*this, d, k);
}
Tensor Tensor::max() const {
  return nabla::amax(*this);
}
Tensor Tensor::max(int64_t dim, bool k) const {
  return nabla::amax(*this, {dim}, k);
}
Tensor Tensor::argmax(int64_t dim, bool k) const {
  return nabla::argmax(*this, dim, k);
}

}  // namespace nabla
