// Views (reshape, permute, slice, expand, ...), copies between layouts and devices, and cat.
// A view shares storage; its backward routes the gradient back to the viewed layout.
#include <algorithm>
#include <numeric>

#include "backend/layout.h"
#include "backend/memory.h"
#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "ops/helpers.h"

namespace nabla {
namespace ops {

Tensor make_view(const Tensor& base, Shape shape, std::vector<int64_t> strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->offset = offset;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

Tensor empty_like(const Tensor& t) {
  return Tensor::empty(t.shape(), {t.dtype(), t.device()});
}

Tensor broadcast_view(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  const int64_t n = shape.ndim(), tn = t.dim();
  NABLA_CHECK(tn <= n, "expand: cannot broadcast shape {} to {}", t.shape().str(), shape.str());
  std::vector<int64_t> strides(n, 0);
  for (int64_t i = 0; i < tn; ++i) {
    const int64_t src = t.shape().dims[i], dst = shape.dims[n - tn + i];
    NABLA_CHECK(src == dst || src == 1, "expand: cannot broadcast shape {} to {}", t.shape().str(),
                shape.str());
    strides[n - tn + i] = src == 1 ? 0 : t.strides()[i];
  }
  return make_view(t, shape, std::move(strides), t.offset());
}

void check_float(const Tensor& t, const char* op) {
  NABLA_CHECK(t.defined(), "{}: got an undefined tensor", op);
  NABLA_CHECK(t.dtype() == DType::Float32, "{}: expected a float32 tensor, got {} of shape {}", op,
              dtype_name(t.dtype()), t.shape().str());
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  NABLA_CHECK(a.device() == b.device(), "{}: tensors are on different devices ({} and {})", op,
              a.device().str(), b.device().str());
}

}  // namespace ops

namespace {

Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from) {
  std::vector<int64_t> dims = requested.dims;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      NABLA_CHECK(infer < 0, "reshape: only one dimension can be -1 in {}", requested.str());
      infer = static_cast<int64_t>(i);
    } else {
      NABLA_CHECK(dims[i] >= 0, "reshape: invalid dimension {} in {}", dims[i], requested.str());
      NABLA_CHECK(!__builtin_mul_overflow(known, dims[i], &known),
                  "reshape: cannot reshape {} into {}, which has more than 2^63 elements",
                  from.str(), requested.str());
    }
  }
  if (infer >= 0) {
    NABLA_CHECK(known > 0 && numel % known == 0, "reshape: cannot reshape {} into {}", from.str(),
                requested.str());
    dims[infer] = numel / known;
  }
  Shape out(std::move(dims));
  NABLA_CHECK(out.numel() == numel, "reshape: cannot reshape {} ({} elements) into {}", from.str(),
              numel, requested.str());
  return out;
}

}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  const Shape out = infer_shape(shape, numel(), this->shape());
  NABLA_CHECK(is_contiguous(), "view: tensor of shape {} is not contiguous; use reshape()",
              this->shape().str());
  const Shape in_shape = this->shape();
  Tensor v = ops::make_view(*this, out, contiguous_strides(out), offset());
  return autograd::record("view", v, {*this}, [in_shape](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(in_shape)};
  });
}

Tensor Tensor::reshape(const Shape& shape) const {
  return is_contiguous() ? view(shape) : contiguous().view(shape);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const int64_t s = shape().wrap_dim(start_dim), e = shape().wrap_dim(end_dim);
  NABLA_CHECK(s <= e, "flatten: start_dim {} is after end_dim {}", start_dim, end_dim);
  std::vector<int64_t> dims(shape().dims.begin(), shape().dims.begin() + s);
  int64_t merged = 1;
  for (int64_t i = s; i <= e; ++i) merged *= shape().dims[i];
  dims.push_back(merged);
  dims.insert(dims.end(), shape().dims.begin() + e + 1, shape().dims.end());
  return reshape(Shape(std::move(dims)));
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  NABLA_CHECK(static_cast<int64_t>(dims.size()) == dim(),
              "permute: got {} dims for a tensor of shape {}", dims.size(), shape().str());
  std::vector<int64_t> order(dims.size()), sizes(dims.size()), strides(dims.size()),
      inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = shape().wrap_dim(dims[i]);
    NABLA_CHECK(!seen[d], "permute: dimension {} appears twice", d);
    seen[d] = true;
    order[i] = d;
    sizes[i] = shape().dims[d];
    strides[i] = this->strides()[d];
    inverse[d] = static_cast<int64_t>(i);
  }
  Tensor v = ops::make_view(*this, Shape(sizes), strides, offset());
  return autograd::record("permute", v, {*this}, [inverse](const Tensor& g) {
    return std::vector<Tensor>{g.permute(inverse)};
  });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  std::vector<int64_t> order(dim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[shape().wrap_dim(dim0)], order[shape().wrap_dim(dim1)]);
  return permute(order);
}

Tensor Tensor::t() const {
  NABLA_CHECK(dim() == 2, "t: expected a 2-D tensor, got shape {}", shape().str());
  return transpose(0, 1);
}

Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  const int64_t d = shape().wrap_dim(dim);
  const int64_t size = shape().dims[d];
  NABLA_CHECK(step > 0, "slice: step must be positive, got {}", step);
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  std::vector<int64_t> sizes = shape().dims, strides = this->strides();
  sizes[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  const Shape in_shape = shape();
  Tensor v = ops::make_view(*this, Shape(sizes), strides, offset() + start * this->strides()[d]);
  return autograd::record("slice", v, {*this}, [in_shape, d, start, end, step](const Tensor& g) {
    Tensor dx = Tensor::zeros(in_shape, {g.dtype(), g.device()});
    dx.slice(d, start, end, step).copy_(g);
    return std::vector<Tensor>{dx};
  });
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  const int64_t d = shape().wrap_dim(dim);
  NABLA_CHECK(start >= 0 && length >= 0 && start + length <= shape().dims[d],
              "narrow: [{}, {}) is out of range for dimension {} of size {}", start, start + length,
              d, shape().dims[d]);
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  const int64_t d = shape().wrap_dim(dim);
  const int64_t size = shape().dims[d];
  NABLA_CHECK(index >= -size && index < size, "select: index {} is out of range for size {}", index,
              size);
  if (index < 0) index += size;
  return narrow(d, index, 1).squeeze(d);
}

Tensor Tensor::squeeze(int64_t dim) const {
  const int64_t d = shape().wrap_dim(dim);
  if (shape().dims[d] != 1) return *this;
  std::vector<int64_t> sizes = shape().dims, strides = this->strides();
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor v = ops::make_view(*this, Shape(sizes), strides, offset());
  return autograd::record("squeeze", v, {*this},
                          [d](const Tensor& g) { return std::vector<Tensor>{g.unsqueeze(d)}; });
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  const int64_t n = this->dim() + 1;
  NABLA_CHECK(dim >= -n && dim < n, "unsqueeze: dimension {} out of range for shape {}", dim,
              shape().str());
  if (dim < 0) dim += n;
  std::vector<int64_t> sizes = shape().dims, strides = this->strides();
  // The new dim has size 1, so its stride never moves an offset; pick the contiguous value.
  const int64_t stride = dim < n - 1 ? strides[dim] * sizes[dim] : 1;
  sizes.insert(sizes.begin() + dim, 1);
  strides.insert(strides.begin() + dim, stride);
  Tensor v = ops::make_view(*this, Shape(sizes), strides, offset());
  return autograd::record("unsqueeze", v, {*this},
                          [dim](const Tensor& g) { return std::vector<Tensor>{g.squeeze(dim)}; });
}

Tensor Tensor::expand(const Shape& shape) const {
  // broadcast_view returns this very handle for an unchanged shape; recording a node on it
  // would turn a leaf into its own parent.
  if (shape == this->shape()) return *this;
  const Shape in_shape = this->shape();
  return autograd::record(
      "expand", ops::broadcast_view(*this, shape), {*this},
      [in_shape](const Tensor& g) { return std::vector<Tensor>{sum_to(g, in_shape)}; });
}

Tensor Tensor::clone() const {
  Tensor out = ops::empty_like(*this);
  backend::copy_strided_stub(device())(*this, out);
  return autograd::record("clone", out, {*this},
                          [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::contiguous() const {
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::to(Device target) const {
  const Device source = device();
  if (target == source) return *this;
  const Tensor src = contiguous();
  Tensor out = Tensor::empty(shape(), {dtype(), target});
  const std::size_t nbytes = static_cast<std::size_t>(numel()) * dtype_size(dtype());
  if (source.is_cpu()) {
    backend::copy_from_host_stub(target)(out.raw_data(), src.raw_data(), nbytes);
  } else if (target.is_cpu()) {
    backend::copy_to_host_stub(source)(out.raw_data(), src.raw_data(), nbytes);
  } else {  // between two GPUs, through the host
    out.copy_(src.to(Device::cpu()));
  }
  return autograd::record("to", out, {*this},
                          [source](const Tensor& g) { return std::vector<Tensor>{g.to(source)}; });
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  NABLA_CHECK(!tensors.empty(), "cat: expected at least one tensor");
  const Tensor& first = tensors.front();
  const int64_t d = first.shape().wrap_dim(dim);
  std::vector<int64_t> sizes = first.shape().dims;
  sizes[d] = 0;
  for (const Tensor& t : tensors) {
    NABLA_CHECK(t.dim() == first.dim() && t.dtype() == first.dtype(),
                "cat: tensor of shape {} ({}) does not match shape {} ({})", t.shape().str(),
                dtype_name(t.dtype()), first.shape().str(), dtype_name(first.dtype()));
    ops::check_same_device(first, t, "cat");
    for (int64_t i = 0; i < t.dim(); ++i)
      NABLA_CHECK(i == d || t.shape().dims[i] == first.shape().dims[i],
                  "cat: shapes {} and {} differ outside dimension {}", t.shape().str(),
                  first.shape().str(), d);
    sizes[d] += t.shape().dims[d];
  }
  Tensor out = Tensor::empty(Shape(sizes), {first.dtype(), first.device()});
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    starts.push_back(at);
    const Tensor dst =
        ops::make_view(out, t.shape(), out.strides(), out.offset() + at * out.strides()[d]);
    backend::copy_strided_stub(out.device())(t, dst);
    at += t.shape().dims[d];
  }
  return autograd::record(
      "cat", out, tensors,
      [starts,
       tensors_sizes =
           [&] {
             std::vector<int64_t> s;
             for (const Tensor& t : tensors) s.push_back(t.shape().dims[d]);
             return s;
           }(),
       d](const Tensor& g) {
        std::vector<Tensor> grads;
        for (size_t i = 0; i < starts.size(); ++i)
          grads.push_back(g.narrow(d, starts[i], tensors_sizes[i]).contiguous());
        return grads;
      });
}

}  // namespace nabla
