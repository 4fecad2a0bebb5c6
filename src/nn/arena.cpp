// nn::ParameterArena: one flat parameter buffer and one flat gradient buffer; every parameter and
// its .grad are re-pointed at their slices (see include/nabla/nn/arena.h for the layout).
#include "nabla/nn/arena.h"

#include <set>

namespace nabla::nn {

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
                "moved to another device after the optimizer was created. Create the optimizer "
                "after Module::to()",
                e.name);
}

int64_t ParameterArena::find(const std::string& name) const {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace nabla::nn
