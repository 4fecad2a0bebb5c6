// nn::ParameterArena: one flat parameter buffer and one flat gradient buffer; every parameter and
// its .grad are re-pointed at their slices (see include/nabla/nn/arena.h for the layout).
#include "nabla/nn/arena.h"

#include <set>

namespace nabla::nn {

namespace {

// Whether the parameters, laid out at `entries`' offsets, already are the views of an arena that
// starts at the first one (a second optimizer over the same model): each parameter and its
// gradient at its offset in one storage.
bool already_laid_out(const std::vector<ParameterArena::Entry>& entries) {
  if (entries.empty()) return false;
  const Tensor& first = entries.front().param;
  const Tensor first_grad = first.grad();
  if (!first_grad.defined()) return false;
  for (const ParameterArena::Entry& e : entries) {
    const Tensor g = e.param.grad();
    if (!e.param.is_contiguous() || !g.defined() || !g.is_contiguous() ||
        e.param.impl()->storage != first.impl()->storage ||
        g.impl()->storage != first_grad.impl()->storage ||
        e.param.offset() - first.offset() != e.offset ||
        g.offset() - first_grad.offset() != e.offset)
      return false;
  }
  return true;
}

// A 1-D float32 tensor of `size` elements over `t`'s storage from t's first element.
Tensor flat_view(const Tensor& t, int64_t size) {
  auto impl = std::make_shared<TensorImpl>(*t.impl());
  impl->shape = Shape({size});
  impl->strides = {1};
  impl->grad_fn = nullptr;
  impl->grad = nullptr;
  impl->requires_grad = false;
  return Tensor(std::move(impl));
}

}  // namespace

std::shared_ptr<ParameterArena> ParameterArena::build(const NamedTensors& params) {
  auto arena = std::make_shared<ParameterArena>();
  std::set<std::string> names;
  std::set<const TensorImpl*> impls;
  int64_t offset = 0;
  for (const auto& [name, param] : params) {
    NABLA_CHECK(param.defined(), "ParameterArena: parameter '{}' is an undefined tensor", name);
    NABLA_CHECK(names.insert(name).second, "ParameterArena: parameter name '{}' appears twice",
                name);
    NABLA_CHECK(impls.insert(param.impl()).second,
                "ParameterArena: parameter '{}' is the same tensor as an earlier parameter", name);
    NABLA_CHECK(param.dtype() == DType::Float32,
                "ParameterArena: parameter '{}' is {}, expected float32", name,
                dtype_name(param.dtype()));
    NABLA_CHECK(param.is_leaf(), "ParameterArena: parameter '{}' is not a leaf tensor", name);
    NABLA_CHECK(param.device() == params.front().second.device(),
                "ParameterArena: parameter '{}' is on {}, but '{}' is on {}; move the model to "
                "one device first",
                name, param.device().str(), params.front().first,
                params.front().second.device().str());
    arena->entries_.push_back({name, param, offset, param.numel()});
    offset += (param.numel() + kAlignment - 1) / kAlignment * kAlignment;
  }
  arena->size_ = offset;
  // Parameters that another arena already holds in this layout are shared with it, so that the
  // optimizer that made it keeps working (each optimizer updates the same weights, as two
  // PyTorch optimizers over one model do).
  if (already_laid_out(arena->entries_)) {
    arena->params_ = flat_view(arena->entries_.front().param, offset);
    arena->grads_ = flat_view(arena->entries_.front().param.grad(), offset);
    return arena;
  }
  const TensorOptions options{DType::Float32,
                              params.empty() ? Device::cpu() : params.front().second.device()};
  arena->params_ = Tensor::zeros({offset}, options);
  arena->grads_ = Tensor::zeros({offset}, options);

  for (Entry& e : arena->entries_) {
    const Shape shape = e.param.shape();
    arena->params_.narrow(0, e.offset, e.numel).view(shape).copy_(e.param);
    // Re-point the user's handle, so every copy of it sees the arena.
    TensorImpl* impl = e.param.impl();
    impl->storage = arena->params_.impl()->storage;
    impl->offset = arena->params_.offset() + e.offset;
    impl->strides = contiguous_strides(shape);
    e.param.set_grad(arena->grads_.narrow(0, e.offset, e.numel).view(shape));
  }
  return arena;
}

void ParameterArena::zero_grad() {
  grads_.zero_();
}

void ParameterArena::check_intact() const {
  for (const Entry& e : entries_)
    NABLA_CHECK(e.param.impl()->storage == params_.impl()->storage,
                "parameter '{}' no longer lives in the optimizer's parameter arena: the model was "
                "moved to another device (Module::to), or an optimizer over another set or order "
                "of its parameters was created, after this optimizer. Create the optimizer after "
                "Module::to(), and one optimizer per set of parameters",
                e.name);
}

int64_t ParameterArena::find(const std::string& name) const {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace nabla::nn
