// Mixed precision: matrix products and convolutions on bfloat16 or float16 values, with float32
// master weights, accumulation, losses and optimizer state.
//
//   {
//     nabla::AutocastGuard autocast(nabla::Precision::bf16);
//     loss = nn::functional::cross_entropy(model(x), y);
//   }
//   loss.backward();  // the backward rounds as its forward did, guard or not
//
// The rule under a guard (thread-local, like PyTorch's torch.autocast): matmul, linear and conv2d
// round their operands (input, weight, bias) to the precision, multiply and accumulate in float32,
// and round their output; each rounding's gradient is the gradient rounded the same way, so the
// backward's products see and give values of the precision too. Every other op computes in
// float32 on what it is given. Tensors stay float32 (holding values of the narrower type), so the
// CPU runs exactly the numerics of the GPU, where the products go to tensor cores.
#pragma once

#include <string_view>

#include "nabla/fields.h"
#include "nabla/tensor.h"

namespace nabla {

enum class Precision { fp32, bf16, fp16 };
constexpr auto enum_names(Precision) {
  using E = EnumName<Precision>;
  return std::array{E{"fp32", Precision::fp32}, E{"bf16", Precision::bf16},
                    E{"fp16", Precision::fp16}};
}

std::string_view precision_name(Precision p);  // "fp32", "bf16", "fp16"
Precision parse_precision(std::string_view name);

// The calling thread's autocast precision: fp32 outside any guard.
Precision autocast_precision();

class AutocastGuard {
 public:
  explicit AutocastGuard(Precision p);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  Precision previous_;
};

// x (float32) rounded to the nearest value of p, ties to even (PyTorch's x.to(torch.bfloat16)
// then .float()). Differentiable: the gradient is the incoming gradient rounded the same way.
// fp32 (or an undefined x) returns x itself.
Tensor round_to(const Tensor& x, Precision p);

}  // namespace nabla
